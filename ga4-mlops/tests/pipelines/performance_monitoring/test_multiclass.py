"""Realized performance of a multiclass model (the category of the next purchase): each scored
user's first purchase category in [S, S + horizon_days) from the activity days, the class
probabilities' figures per as-of date beside the test figures, the summary and decay rules."""

import numpy as np
import pandas as pd
import pytest

from ga4_mlops.pipelines.model_evaluation.multiclass_metrics import multiclass_report
from ga4_mlops.pipelines.performance_monitoring.multiclass import MULTICLASS_METRICS
from ga4_mlops.pipelines.performance_monitoring.nodes import (
    compute_realized_performance,
    label_past_scores,
    plot_realized_performance,
    summarise_realized_performance,
)
from ga4_mlops.pipelines.performance_monitoring.retraining import decide_retraining
from ga4_mlops.problem_types import class_score_columns

CLASSES = ["(none)", "Bags", "Office", "New"]
COLUMNS = {
    "id": ["user_pseudo_id", "snapshot_date"],
    "date": "snapshot_date",
    "target": "next_purchase_category",
    "problem_type": "multiclass",
    "classes": CLASSES,
}
PARAMS = {
    "horizon_days": 7,
    "label": "category",
    "score_column": "not read",
    "n_bins": 5,
    "calibration_strategy": "quantile",
}
WINDOW = pd.DataFrame(
    {
        "data_first_date": [pd.Timestamp("2021-01-01")],
        "data_last_date": [pd.Timestamp("2021-01-31")],
    }
)
ACTIVITY = pd.DataFrame(
    {
        "user_pseudo_id": ["a", "a", "b", "c", "d"],
        "event_day": pd.to_datetime(
            ["2021-01-20", "2021-01-19", "2021-01-22", "2021-01-20", "2021-01-26"]
        ),
        "events": [3, 2, 2, 1, 4],
        "target_events": [1, 1, 1, 0, 1],
        # a: two purchase days, listed latest first (the earlier day decides); c: no purchase;
        # d: a purchase after the 7-day horizon of 2021-01-18
        "first_purchase_category": ["Bags", "Office", "Bags", None, "Office"],
    }
)
SCORE_COLUMNS = class_score_columns("calibrated", COLUMNS)
PROBABILITIES = np.array(
    [[0.2, 0.3, 0.4, 0.1], [0.3, 0.5, 0.1, 0.1], [0.7, 0.1, 0.1, 0.1], [0.4, 0.2, 0.1, 0.3]]
)


def partitions() -> dict:
    frame = pd.DataFrame(PROBABILITIES, columns=SCORE_COLUMNS).assign(
        user_pseudo_id=["a", "b", "c", "d"],
        snapshot_date=pd.Timestamp("2021-01-18"),
        model_version="1",
    )
    return {"2021-01-18": lambda: frame}


def test_the_label_is_the_first_purchase_category_in_the_horizon_else_none():
    labelled = label_past_scores(partitions(), ACTIVITY, WINDOW, PARAMS, COLUMNS)
    assert labelled["label"].tolist() == ["Office", "Bags", "(none)", "(none)"]
    assert list(labelled.columns[2:6]) == SCORE_COLUMNS
    with pytest.raises(ValueError, match=r"multiclass against 'category'"):
        label_past_scores(partitions(), ACTIVITY, WINDOW, {**PARAMS, "label": "event"}, COLUMNS)
    with pytest.raises(ValueError, match=r"lacks .*first_purchase_category"):
        activity = ACTIVITY.drop(columns="first_purchase_category")
        label_past_scores(partitions(), activity, WINDOW, PARAMS, COLUMNS)


def test_realized_figures_are_the_class_probabilities_against_the_realized_category():
    labelled = label_past_scores(partitions(), ACTIVITY, WINDOW, PARAMS, COLUMNS)
    test_metrics = pd.DataFrame(
        {"model_version": "1", "metric": list(MULTICLASS_METRICS), "value": [1.0, 0.5, 0.9, 0.1]}
    )
    realized = compute_realized_performance(labelled, test_metrics, PARAMS, COLUMNS)
    expected = multiclass_report(
        np.array([2, 1, 0, 0]), {"m": PROBABILITIES}, CLASSES, n_bins=5, strategy="quantile"
    )
    row = realized.iloc[0]
    assert (row["n_users"], row["n_buyers"]) == (4, 2)
    for metric, test_value in zip(MULTICLASS_METRICS, [1.0, 0.5, 0.9, 0.1], strict=True):
        assert row[metric] == pytest.approx(expected.loc[0, metric])
        assert row[f"{metric}_change"] == pytest.approx(expected.loc[0, metric] - test_value)
    summary = summarise_realized_performance(realized)
    assert summary["history"][0]["macro_ece"] == pytest.approx(row["macro_ece"])
    assert summary["latest"]["log_loss"] == pytest.approx(row["log_loss"])
    assert len(plot_realized_performance(realized).axes) == 4


def test_a_multiclass_model_decays_on_its_log_loss_and_its_calibration():
    def entry(log_loss_change: float, macro_ece: float) -> dict:
        return {"as_of_date": "2021-01-18", "log_loss_change": log_loss_change,
                "macro_ece": macro_ece}  # fmt: skip

    params = {
        "min_drift_alerts": 1,
        "decay_weeks": 1,
        "decay": {"max_log_loss_rise": 0.01, "max_macro_ece": 0.05},
    }
    drift = {"alert_features": []}
    kept, _ = decide_retraining(drift, {"history": [entry(0.005, 0.01)]}, params)
    worse, _ = decide_retraining(drift, {"history": [entry(0.02, 0.01)]}, params)
    uncalibrated, _ = decide_retraining(drift, {"history": [entry(0.0, 0.2)]}, params)
    assert (kept["retrain"], worse["retrain"], uncalibrated["retrain"]) == (False, True, True)
    with pytest.raises(ValueError, match=r"retraining\.decay\.max_log_loss_rise is missing"):
        decide_retraining(drift, {"history": [entry(0.0, 0.0)]}, {**params, "decay": {}})

"""Realized performance of predicted revenue (problem_type regression): each scored user's
revenue in [S, S + horizon_days) from the activity days, regression_report's figures per
as-of date beside the test figures, the summary, MLflow metrics, plot and decay rules."""

import numpy as np
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader

from ga4_mlops.pipelines.model_evaluation.regression_metrics import regression_report
from ga4_mlops.pipelines.performance_monitoring.nodes import (
    NOTHING_YET,
    REGRESSION_METRICS,
    compute_realized_performance,
    label_past_scores,
    plot_realized_performance,
    realized_performance_mlflow_metrics,
    summarise_realized_performance,
)
from ga4_mlops.pipelines.performance_monitoring.retraining import decide_retraining
from ga4_mlops.settings import CONFIG_LOADER_ARGS
from tests.kedro_cli import BLUEPRINT

COLUMNS = {
    "id": ["user_pseudo_id", "snapshot_date"],
    "date": "snapshot_date",
    "target": "revenue_usd_horizon",
    "problem_type": "regression",
}
PARAMS = {
    "horizon_days": 7,
    "label": "revenue",
    "score_column": "calibrated_prediction",
    "n_bins": 10,
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
        "user_pseudo_id": ["a", "a", "b", "c", "a", "d", "b"],
        "event_day": pd.to_datetime(
            [
                "2021-01-18",
                "2021-01-20",
                "2021-01-24",
                "2021-01-20",
                "2021-01-25",
                "2021-01-17",
                "2021-01-31",
            ]
        ),
        "events": [3, 2, 2, 1, 4, 5, 1],
        "target_events": [1, 1, 1, 0, 0, 1, 1],
        "revenue_usd": [10.0, 5.5, 20.0, 0.0, 7.0, 99.0, 3.0],
    }
)
NO_TEST_FIGURES = pd.DataFrame(columns=["model_version", "metric", "value"])


def scores(as_of: str, users: list[str], predictions: list[float], version: str = "1"):
    frame = pd.DataFrame(
        {
            "user_pseudo_id": users,
            "snapshot_date": pd.Timestamp(as_of),
            "calibrated_prediction": predictions,
            "model_version": version,
        }
    )
    return lambda: frame


PARTITIONS = {
    "2021-01-18": scores("2021-01-18", ["a", "b", "c", "d"], [9.0, 15.0, 1.0, 0.5]),
    "2021-01-25": scores("2021-01-25", ["a", "b", "e"], [5.0, 4.0, 1.0]),  # horizon ends 01-31
    "2021-01-26": scores("2021-01-26", ["a"], [5.0]),  # horizon ends 02-01: not yet
}


def test_the_realized_target_is_the_revenue_in_the_horizon():
    labelled = label_past_scores(PARTITIONS, ACTIVITY, WINDOW, PARAMS, COLUMNS)
    by_key = labelled.set_index(
        [labelled["snapshot_date"].dt.strftime("%Y-%m-%d"), "user_pseudo_id"]
    )["label"]
    # a: 10 + 5.5 in [01-18, 01-24]; b buys on 01-24 (the last day); d bought the day before;
    # c was active without revenue.
    assert by_key.loc["2021-01-18"].to_dict() == {"a": 15.5, "b": 20.0, "c": 0.0, "d": 0.0}
    # e has no active day at all: 0; b's 01-31 is the last day of the 01-25 horizon.
    assert by_key.loc["2021-01-25"].to_dict() == {"a": 7.0, "b": 3.0, "e": 0.0}
    assert "2021-01-26" not in by_key.index.get_level_values(0)
    assert labelled["label"].dtype == "float64"


def test_the_label_must_fit_the_problem_type():
    with pytest.raises(ValueError, match=r"label 'event' does not fit .*problem_type 'regression'"):
        label_past_scores(PARTITIONS, ACTIVITY, WINDOW, {**PARAMS, "label": "event"}, COLUMNS)
    binary = {**COLUMNS, "problem_type": "binary"}
    with pytest.raises(ValueError, match=r"label 'revenue' does not fit .*problem_type 'binary'"):
        label_past_scores(PARTITIONS, ACTIVITY, WINDOW, PARAMS, binary)
    with pytest.raises(
        ValueError, match=r"ga4_events@activity_days lacks column\(s\) \['revenue_usd'\]"
    ):
        label_past_scores(PARTITIONS, ACTIVITY.drop(columns="revenue_usd"), WINDOW, PARAMS, COLUMNS)


def realized_week(seed: int, version: str = "2", as_of: str = "2021-01-18") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 2000
    expected = rng.gamma(0.5, 4.0, n)
    buys = rng.random(n) < np.clip(expected / 10.0, 0, 1)
    return pd.DataFrame(
        {
            "user_pseudo_id": [f"u{i}" for i in range(n)],
            "snapshot_date": pd.Timestamp(as_of),
            "calibrated_prediction": expected,
            "model_version": version,
            "label": np.where(buys, rng.gamma(4.0, 2.5, n), 0.0),
        }
    )


def test_regression_metrics_per_date_beside_the_scoring_versions_test_figures():
    labelled = realized_week(0)
    test_metrics = pd.DataFrame(
        {
            "model_version": ["1", "2", "2", "2"],
            "metric": ["normalized_gini", "normalized_gini", "total_relative_error", "roc_auc"],
            "value": [0.9, 0.6, 0.02, 0.8],
        }
    )
    report = compute_realized_performance(labelled, test_metrics, PARAMS, COLUMNS)
    row = report.iloc[0]
    expected = regression_report(
        labelled["label"], {"m": labelled["calibrated_prediction"]}, n_bins=10
    ).iloc[0]
    assert row["as_of_date"] == "2021-01-18" and row["model_version"] == "2"
    assert row["n_users"] == 2000 and row["n_buyers"] == (labelled["label"] > 0).sum()
    for metric in REGRESSION_METRICS:
        assert row[metric] == pytest.approx(expected[metric]), metric
    assert 0.2 < row["normalized_gini"] < 0.9
    assert row["test_normalized_gini"] == 0.6 and np.isnan(row["test_rmse"])
    assert row["normalized_gini_change"] == pytest.approx(row["normalized_gini"] - 0.6)
    assert "roc_auc" not in report  # binary's figures are not a regression model's

    summary = summarise_realized_performance(report)
    assert summary["latest"]["normalized_gini"] == pytest.approx(row["normalized_gini"])
    assert summary["history"] == [
        {
            "as_of_date": "2021-01-18",
            **{
                f"{m}_change": (None if np.isnan(row[f"{m}_change"]) else row[f"{m}_change"])
                for m in REGRESSION_METRICS
            },
            "total_relative_error": row["total_relative_error"],
        }
    ]
    metrics = realized_performance_mlflow_metrics(report)
    assert set(metrics) == set(REGRESSION_METRICS)
    assert metrics["normalized_gini"] == [{"value": row["normalized_gini"], "step": 18645}]
    figure = plot_realized_performance(report)
    assert [ax.get_title() for ax in figure.axes] == list(REGRESSION_METRICS[:4])


def test_a_week_without_revenue_or_labels_gets_no_metrics_instead_of_an_error():
    quiet = realized_week(1).assign(label=0.0)
    report = compute_realized_performance(quiet, NO_TEST_FIGURES, PARAMS, COLUMNS)
    assert report["n_buyers"].tolist() == [0]
    assert report[list(REGRESSION_METRICS)].isna().all(axis=None)
    empty = compute_realized_performance(
        label_past_scores({}, ACTIVITY, WINDOW, PARAMS, COLUMNS), NO_TEST_FIGURES, PARAMS, COLUMNS
    )
    assert empty.empty and "normalized_gini" in empty
    assert summarise_realized_performance(empty)["status"] == NOTHING_YET
    assert realized_performance_mlflow_metrics(empty) == {}
    assert plot_realized_performance(empty).axes[0].get_title() == "normalized_gini"


RETRAINING = {
    "min_drift_alerts": 1,
    "decay_weeks": 2,
    "decay": {
        "max_roc_auc_drop": 0.05,
        "max_pr_auc_drop": 0.05,
        "max_ece": 0.03,
        "max_normalized_gini_drop": 0.05,
        "max_abs_total_relative_error": 0.3,
    },
}
NO_DRIFT = {"drift_detected": False, "alert_features": [], "warn_features": []}


def week(day: str, gini_change: float, total_error: float = 0.0) -> dict:
    return {
        "as_of_date": day,
        "normalized_gini_change": gini_change,
        "total_relative_error_change": 0.0,
        "rmse_change": 0.0,
        "total_relative_error": total_error,
    }


def test_revenue_decay_is_a_gini_drop_or_a_wrong_total_for_decay_weeks():
    def retrain(*weeks: dict, params: dict = RETRAINING) -> dict:
        return decide_retraining(NO_DRIFT, {"status": "evaluated", "history": list(weeks)}, params)[
            0
        ]

    assert retrain(week("2021-01-18", -0.04), week("2021-01-25", 0.0, -0.29))["retrain"] is False
    assert (
        retrain(week("2021-01-18", 0.0), week("2021-01-25", -0.2))["retrain"] is False
    )  # one week
    decision = retrain(week("2021-01-18", -0.06), week("2021-01-25", 0.01, total_error=-0.4))
    assert decision["retrain"] is True
    assert "2021-01-18: normalized Gini -0.060 vs test" in decision["reasons"][0]
    assert "2021-01-25: |total relative error| 0.400 > 0.3" in decision["reasons"][0]
    unset = {**RETRAINING, "decay": {"max_roc_auc_drop": 0.05}}
    with pytest.raises(ValueError, match=r"retraining.decay.max_normalized_gini_drop is missing"):
        retrain(week("2021-01-18", -0.06), week("2021-01-25", 0.0), params=unset)


def test_the_revenue_environment_sets_the_regression_settings_over_base():
    parameters = OmegaConfigLoader(str(BLUEPRINT / "conf"), env="revenue", **CONFIG_LOADER_ARGS)[
        "parameters"
    ]
    assert parameters["drift_monitoring"]["score_column"] == "calibrated_prediction"
    assert parameters["drift_monitoring"]["n_bins"] == 10  # base's, soft-merged
    monitoring = parameters["performance_monitoring"]
    assert (monitoring["label"], monitoring["score_column"]) == ("revenue", "calibrated_prediction")
    gate = parameters["model_registry"]["quality_gate"]
    assert gate["candidate"] == "model_calibrated" and gate["min_normalized_gini"] > 0
    assert set(RETRAINING["decay"]) <= set(parameters["retraining"]["decay"])

"""Realized performance: labels from active days, metrics per as-of date, the empty case."""

import numpy as np
import pandas as pd
import pytest

from ga4_mlops.pipelines.performance_monitoring.nodes import (
    NOTHING_YET,
    compute_realized_performance,
    label_past_scores,
    plot_realized_performance,
    realized_performance_mlflow_metrics,
    summarise_realized_performance,
)

COLUMNS = {"id": ["user_pseudo_id", "snapshot_date"], "date": "snapshot_date"}
PARAMS = {
    "horizon_days": 7,
    "label": "event",
    "score_column": "calibrated_probability",
    "n_bins": 2,
    "calibration_strategy": "quantile",
}
WINDOW = pd.DataFrame(
    {
        "data_first_date": [pd.Timestamp("2021-01-01")],
        "data_last_date": [pd.Timestamp("2021-01-31")],
    }
)


def scores(as_of: str, users: list[str], probabilities: list[float], version: str = "1"):
    frame = pd.DataFrame(
        {
            "user_pseudo_id": users,
            "snapshot_date": pd.Timestamp(as_of),
            "calibrated_probability": probabilities,
            "model_version": version,
        }
    )
    return lambda: frame


ACTIVITY = pd.DataFrame(
    {
        "user_pseudo_id": ["a", "b", "c", "a", "d"],
        "event_day": pd.to_datetime(
            ["2021-01-18", "2021-01-24", "2021-01-20", "2021-01-25", "2021-01-17"]
        ),
        "events": [3, 2, 1, 4, 5],
        "target_events": [1, 1, 0, 0, 1],
    }
)
PARTITIONS = {
    "2021-01-18": scores("2021-01-18", ["a", "b", "c", "d"], [0.9, 0.6, 0.3, 0.1]),
    "2021-01-25": scores("2021-01-25", ["a", "b"], [0.5, 0.4]),  # horizon ends 01-31: known
    "2021-01-26": scores("2021-01-26", ["a"], [0.5]),  # horizon ends 02-01: not yet
}


def test_labels_come_from_the_horizon_only_and_unknown_dates_wait():
    labelled = label_past_scores(PARTITIONS, ACTIVITY, WINDOW, PARAMS, COLUMNS)
    by_key = labelled.set_index(
        [labelled["snapshot_date"].dt.strftime("%Y-%m-%d"), "user_pseudo_id"]
    )["label"]
    # a buys on 01-18 (first horizon day), b on 01-24 (last); d bought the day before.
    assert by_key.loc["2021-01-18"].to_dict() == {"a": 1, "b": 1, "c": 0, "d": 0}
    assert by_key.loc["2021-01-25"].to_dict() == {"a": 0, "b": 0}
    assert "2021-01-26" not in by_key.index.get_level_values(0)


def test_churn_labels_are_the_users_with_no_event_in_the_horizon():
    labelled = label_past_scores(
        PARTITIONS, ACTIVITY, WINDOW, {**PARAMS, "label": "churn"}, COLUMNS
    )
    first = labelled.loc[labelled["snapshot_date"] == "2021-01-18"]
    assert dict(zip(first["user_pseudo_id"], first["label"], strict=True)) == {
        "a": 0,
        "b": 0,
        "c": 0,
        "d": 1,
    }


def test_an_unknown_label_kind_is_refused():
    with pytest.raises(ValueError, match=r"performance_monitoring.label must be one of"):
        label_past_scores(PARTITIONS, ACTIVITY, WINDOW, {**PARAMS, "label": "buy"}, COLUMNS)


@pytest.mark.parametrize("partitions", [{}, {"2021-01-26": PARTITIONS["2021-01-26"]}])
def test_nothing_labelled_yet_is_reported_not_raised(partitions):
    labelled = label_past_scores(partitions, ACTIVITY, WINDOW, PARAMS, COLUMNS)
    report = compute_realized_performance(
        labelled, pd.DataFrame(columns=["model_version", "metric", "value"]), PARAMS, COLUMNS
    )
    assert report.empty
    assert summarise_realized_performance(report)["status"] == NOTHING_YET
    assert realized_performance_mlflow_metrics(report) == {}
    assert plot_realized_performance(report).axes


def test_metrics_per_date_beside_the_scoring_versions_test_figures():
    rng = np.random.default_rng(0)
    n = 400
    probability = rng.uniform(0, 0.3, n)
    label = (rng.random(n) < probability).astype("int64")
    labelled = pd.DataFrame(
        {
            "user_pseudo_id": [f"u{i}" for i in range(n)],
            "snapshot_date": pd.Timestamp("2021-01-18"),
            "calibrated_probability": probability,
            "model_version": "2",
            "label": label,
        }
    )
    test_metrics = pd.DataFrame(
        {
            "model_version": ["1", "2", "2"],
            "metric": ["roc_auc", "roc_auc", "ece"],
            "value": [0.9, 0.7, 0.01],
        }
    )
    report = compute_realized_performance(labelled, test_metrics, {**PARAMS, "n_bins": 10}, COLUMNS)
    row = report.iloc[0]
    assert row["as_of_date"] == "2021-01-18" and row["model_version"] == "2"
    assert row["n_users"] == n and row["n_positives"] == label.sum()
    assert 0.6 < row["roc_auc"] < 0.85  # uniform scores that are the true probability
    assert row["test_roc_auc"] == 0.7
    assert row["roc_auc_change"] == pytest.approx(row["roc_auc"] - 0.7)
    assert np.isnan(row["test_pr_auc"])
    assert row["lift_at_5pct"] > 1.0
    summary = summarise_realized_performance(report)
    assert summary["latest_as_of_date"] == "2021-01-18"
    assert summary["history"][0]["roc_auc_change"] == pytest.approx(row["roc_auc_change"])
    metrics = realized_performance_mlflow_metrics(report)
    assert metrics["roc_auc"] == [{"value": row["roc_auc"], "step": 18645}]  # days since 1970


def test_a_week_without_positives_gets_no_metrics_instead_of_an_error():
    labelled = pd.DataFrame(
        {
            "user_pseudo_id": ["a", "b"],
            "snapshot_date": pd.Timestamp("2021-01-18"),
            "calibrated_probability": [0.2, 0.1],
            "model_version": "1",
            "label": [0, 0],
        }
    )
    report = compute_realized_performance(
        labelled, pd.DataFrame(columns=["model_version", "metric", "value"]), PARAMS, COLUMNS
    )
    assert report["n_positives"].tolist() == [0]
    assert report["roc_auc"].isna().all()

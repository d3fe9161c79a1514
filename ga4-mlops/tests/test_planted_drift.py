"""The generator's steady state and its planted drift, seen by drift monitoring and by
realized performance: no alert without drift, alerts on the planted features with it, and a
drop of realized performance when the drift also changes buying."""

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.ensemble import HistGradientBoostingClassifier

from ga4_mlops.datasets.duckdb_query_dataset import DuckDBQueryDataset
from ga4_mlops.pipelines.data_generation.nodes import generate_ga4_events, oracle_probabilities
from ga4_mlops.pipelines.drift_monitoring.nodes import compute_drift_report, summarise_drift
from ga4_mlops.pipelines.performance_monitoring.nodes import compute_realized_performance
from tests.datasets.ga4_events import CATALOG_OPTIONS
from tests.kedro_cli import BLUEPRINT

CONF = BLUEPRINT / "conf" / "base"
TRAIN = ["2020-11-29", "2020-12-06", "2020-12-13", "2020-12-20", "2020-12-27"]
BEFORE, DRIFTED, LATEST = "2021-01-10", "2021-01-24", "2021-02-01"
DRIFT = {
    "start_date": "2021-01-11",
    "arrival_multiplier": 4.0,
    "device_multipliers": {"mobile": 8.0},
    "medium_multipliers": {"cpc": 25.0},
    "purchase_logit_shift": 0.0,
}
COLUMNS = yaml.safe_load((CONF / "parameters_model_input.yml").read_text())["model_input"][
    "columns"
]
DRIFT_PARAMS = yaml.safe_load((CONF / "parameters_drift_monitoring.yml").read_text())[
    "drift_monitoring"
]


def snapshot_features(tmp_path_factory, name: str, **drift) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generated data (default knobs, fewer users) through the real feature query."""
    params = yaml.safe_load((CONF / "parameters_data_generation.yml").read_text())
    params = {**params["data_generation"], "seed": 42, "n_users": 50_000}
    params["drift"] = {**params["drift"], **drift}
    partitions, truth = generate_ga4_events(params)
    folder = tmp_path_factory.mktemp(name)
    for partition, load in partitions.items():
        load().to_parquet(folder / f"{partition}.parquet")
    features = DuckDBQueryDataset(
        filepath=str(BLUEPRINT / "src" / "ga4_mlops" / "sql" / "user_features.sql"),
        tables={"events_*": str(folder / "events_*.parquet")},
        query_parameters={
            "start_date": "2020-11-01",
            "end_date": "2021-01-31",
            "snapshot_dates": [*TRAIN, BEFORE, DRIFTED, LATEST],
            "lookback_days": 28,
            "horizon_days": 7,
            "target_event": "purchase",
            "sample_fraction": 1.0,
            "sample_seed": 42,
        },
        **CATALOG_OPTIONS,
    ).load()
    features["snapshot_date"] = pd.to_datetime(features["snapshot_date"])
    features["oracle"] = oracle_probabilities(truth, features, 7, "purchase").to_numpy()
    return features, truth


@pytest.fixture(scope="module")
def steady(tmp_path_factory):
    return snapshot_features(tmp_path_factory, "steady")[0]


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    return snapshot_features(tmp_path_factory, "drifted", **DRIFT)[0]


@pytest.fixture(scope="module")
def drifted_buying(tmp_path_factory):
    return snapshot_features(tmp_path_factory, "buying", **{**DRIFT, "purchase_logit_shift": -4.0})[
        0
    ]


def rows_of(features: pd.DataFrame, dates: list[str]) -> pd.DataFrame:
    return features.loc[features["snapshot_date"].isin(pd.to_datetime(dates))]


def drift_summary(features: pd.DataFrame, current: str) -> dict:
    reference, now = rows_of(features, TRAIN), rows_of(features, [current])
    scores = {"calibrated_probability": "oracle"}  # the oracle stands in for a model's score
    report = compute_drift_report(
        reference,
        now,
        reference.rename(columns={v: k for k, v in scores.items()}),
        now.rename(columns={v: k for k, v in scores.items()}),
        COLUMNS,
        DRIFT_PARAMS,
    )
    return summarise_drift(report) | {"psi": report.set_index("feature")["psi"].to_dict()}


def test_the_steady_store_raises_no_drift_alert(steady):
    for current in (BEFORE, DRIFTED, LATEST):
        summary = drift_summary(steady, current)
        assert summary["alert_features"] == [], (current, summary)
        assert summary["psi"]["days_since_first_touch"] < 0.1


def test_planted_drift_alerts_on_the_planted_features_only_after_it_starts(drifted):
    assert drift_summary(drifted, BEFORE)["alert_features"] == []
    latest = drift_summary(drifted, LATEST)
    assert {"first_touch_medium", "device_category"} <= set(latest["alert_features"])
    assert "country" not in latest["alert_features"]


def realized(features: pd.DataFrame) -> pd.DataFrame:
    """A model trained before the drift, scored on the week before it and a drifted week."""
    inputs = [*COLUMNS["numeric"], *COLUMNS["categorical"]]
    table = features.assign(
        **{column: features[column].astype("category") for column in COLUMNS["categorical"]}
    )
    train = rows_of(table, TRAIN)
    model = HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.05, categorical_features="from_dtype", random_state=0
    ).fit(train[inputs], train["label"].astype(int))
    scored = rows_of(table, [BEFORE, DRIFTED]).assign(model_version="1")
    scored["calibrated_probability"] = model.predict_proba(scored[inputs])[:, 1]
    scored["label"] = scored["label"].astype(int)
    params = {
        "score_column": "calibrated_probability",
        "n_bins": 10,
        "calibration_strategy": "quantile",
    }
    empty = pd.DataFrame(columns=["model_version", "metric", "value"])
    return compute_realized_performance(scored, empty, params, COLUMNS).set_index("as_of_date")


def test_realized_performance_drops_when_the_drift_changes_buying(steady, drifted, drifted_buying):
    calm, mix_only, buying = realized(steady), realized(drifted), realized(drifted_buying)
    # Without drift, a model keeps its quality from one week to the next.
    assert abs(calm.loc[DRIFTED, "roc_auc"] - calm.loc[BEFORE, "roc_auc"]) < 0.05
    # The regular users are drawn alike with and without the buying change: same week
    # before the drift, same quality.
    assert buying.loc[BEFORE, "roc_auc"] == pytest.approx(mix_only.loc[BEFORE, "roc_auc"])
    keys = ["user_pseudo_id", "snapshot_date"]
    both = drifted.merge(drifted_buying, on=keys, suffixes=("", "_buying"))
    before = both["snapshot_date"] < pd.Timestamp(DRIFT["start_date"])
    np.testing.assert_array_equal(both.loc[before, "oracle"], both.loc[before, "oracle_buying"])
    # Newcomers who look like buyers (carts, checkouts) abandon at the last step: realized
    # performance falls below the week before and below the same drift without it.
    assert buying.loc[DRIFTED, "roc_auc"] < buying.loc[BEFORE, "roc_auc"] - 0.05
    assert buying.loc[DRIFTED, "roc_auc"] < mix_only.loc[DRIFTED, "roc_auc"] - 0.01
    assert buying.loc[DRIFTED, "pr_auc"] < 0.75 * mix_only.loc[DRIFTED, "pr_auc"]

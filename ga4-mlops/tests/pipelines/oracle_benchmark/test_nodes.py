"""The oracle benchmark on a seeded simulated population: binary and revenue (regression)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ga4_mlops.pipelines.data_generation.nodes import (
    oracle_expected_revenue,
    oracle_probabilities,
)
from ga4_mlops.pipelines.data_generation.sessions import build_simulation
from ga4_mlops.pipelines.model_evaluation.regression_metrics import REPORT_COLUMNS
from ga4_mlops.pipelines.oracle_benchmark.nodes import benchmark_against_oracle

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"
HORIZON = 28
BINARY_COLUMNS = {"id": ["user_pseudo_id", "snapshot_date"], "target": "label"}
REVENUE_COLUMNS = {
    "id": ["user_pseudo_id", "snapshot_date"],
    "target": "revenue_usd_horizon",
    "problem_type": "regression",
}
PARAMS = {"horizon_days": HORIZON, "target_event": "purchase"}


def evaluation(kind: str) -> dict:
    base = yaml.safe_load((CONF / "parameters_model_evaluation.yml").read_text())
    suffix = "probability" if kind == "binary" else "prediction"
    models = {"baseline": "baseline", "model_raw": "raw", "model_calibrated": "calibrated"}
    return {
        **base["model_evaluation"],
        "models": {name: f"{role}_{suffix}" for name, role in models.items()},
    }


@pytest.fixture(scope="module")
def population() -> tuple[pd.DataFrame, pd.DataFrame]:
    """ga4_user_truth of a small seeded simulation and test keys of users seen before."""
    data_generation = yaml.safe_load((CONF / "parameters_data_generation.yml").read_text())
    _, users = build_simulation(
        {**data_generation["data_generation"], "seed": 7, "n_users": 30000, "n_days": 60}
    )
    snapshot = users["first_touch_date"].max() - pd.Timedelta(days=20)
    seen = users.loc[users["first_touch_date"] < snapshot, "user_pseudo_id"]
    keys = pd.DataFrame({"user_pseudo_id": seen.to_numpy(), "snapshot_date": snapshot})
    return users, keys


def test_revenue_benchmark_compares_every_model_with_the_expected_revenue(population):
    users, keys = population
    rng = np.random.default_rng(0)
    oracle = oracle_expected_revenue(users, keys, horizon_days=HORIZON).to_numpy()
    value = users.set_index("user_pseudo_id")["purchase_value_mean_usd"]
    value = value.reindex(keys["user_pseudo_id"]).to_numpy()
    # Realised revenue with the oracle as its expectation: Poisson purchases of mean value.
    revenue = rng.poisson(oracle / value) * value
    test_predictions = keys.assign(
        revenue_usd_horizon=revenue,
        baseline_prediction=rng.poisson(oracle / value) * value,  # another window's revenue
        raw_prediction=oracle * rng.lognormal(0.0, 1.0, len(keys)),  # noisy ranking
        calibrated_prediction=oracle,  # as good as the oracle
    )
    table, mlflow_metrics = benchmark_against_oracle(
        users, test_predictions, REVENUE_COLUMNS, evaluation("regression"), PARAMS
    )
    assert revenue.sum() > 0 and (revenue > 0).mean() < 0.5  # zero-inflated
    assert table["model"].tolist() == ["oracle", "baseline", "model_raw", "model_calibrated"]
    assert table.columns.tolist() == [*REPORT_COLUMNS, "normalized_gini_gap_to_oracle"]
    rows = table.set_index("model")
    assert rows.loc["oracle", "mean_predicted"] == pytest.approx(oracle.mean())
    assert rows.loc["oracle", "normalized_gini_gap_to_oracle"] == 0.0
    assert rows.loc["model_calibrated", "normalized_gini_gap_to_oracle"] == pytest.approx(0.0)
    assert rows.loc["model_raw", "normalized_gini_gap_to_oracle"] > 0.05
    assert rows.loc["baseline", "normalized_gini_gap_to_oracle"] > 0.05
    assert rows.loc["oracle", "rmse"] < rows.loc["model_raw", "rmse"]
    metrics = ("rmse", "normalized_gini", "total_relative_error", "normalized_gini_gap_to_oracle")
    assert set(mlflow_metrics) == {f"{model}.{m}" for model in rows.index for m in metrics}
    assert mlflow_metrics["model_raw.normalized_gini_gap_to_oracle"] == {
        "value": pytest.approx(rows.loc["model_raw", "normalized_gini_gap_to_oracle"]),
        "step": 0,
    }


def test_binary_benchmark_is_unchanged(population):
    users, keys = population
    rng = np.random.default_rng(1)
    probability = oracle_probabilities(users, keys, HORIZON, "purchase").to_numpy()
    test_predictions = keys.assign(
        label=(rng.random(len(keys)) < probability).astype(int),
        baseline_probability=np.clip(probability * rng.lognormal(0, 1.0, len(keys)), 0, 1),
        raw_probability=np.clip(probability * 1.5, 0, 1),
        calibrated_probability=probability,
    )
    table, mlflow_metrics = benchmark_against_oracle(
        users, test_predictions, BINARY_COLUMNS, evaluation("binary"), PARAMS
    )
    rows = table.set_index("model")
    assert rows.loc["model_calibrated", "roc_auc_gap_to_oracle"] == pytest.approx(0.0)
    assert rows.loc["baseline", "roc_auc_gap_to_oracle"] > 0.01
    metrics = ("roc_auc", "pr_auc", "ece", "roc_auc_gap_to_oracle")
    assert set(mlflow_metrics) == {f"{model}.{m}" for model in rows.index for m in metrics}

"""The quality gate: baseline for the first model, the champion on this run's test split after."""

import numpy as np
import pandas as pd
import pytest

from ga4_mlops.datasets.mlflow_model_alias_dataset import RegisteredModel
from ga4_mlops.pipelines.model_registry.gate import apply_promotion, decide_promotion

GATE = {
    "candidate": "model_calibrated",
    "baseline": "baseline",
    "min_roc_auc": 0.6,
    "max_ece_over_base_rate": 0.5,
    "min_roc_auc_uplift_over_baseline": 0.0,
    "max_roc_auc_drop_vs_champion": 0.005,
    "max_log_loss_rise_vs_champion": 0.01,
}
EVALUATION = {"n_bins": 10, "calibration_strategy": "quantile"}
COLUMNS = {
    "id": ["customer_id"],
    "target": "churned",
    "numeric": ["signal"],
    "categorical": [],
}


def metrics(candidate_auc=0.80, baseline_auc=0.70, ece=0.005, log_loss=0.10, base_rate=0.02):
    return pd.DataFrame(
        [
            {
                "model": "baseline",
                "roc_auc": baseline_auc,
                "log_loss": 0.12,
                "ece": 0.004,
                "base_rate": base_rate,
            },
            {
                "model": "model_calibrated",
                "roc_auc": candidate_auc,
                "log_loss": log_loss,
                "ece": ece,
                "base_rate": base_rate,
            },
        ]
    )


class ScoresColumn:
    """A registered model's predict(): the calibrated probability is one of the columns."""

    def __init__(self, column: str) -> None:
        self.column = column

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        probability = rows[self.column].to_numpy()
        return pd.DataFrame({"raw_probability": probability, "calibrated_probability": probability})


@pytest.fixture
def test_set() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    probability = rng.beta(1, 30, 20000)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(20000)],
            "signal": probability,
            "churned": (rng.random(20000) < probability).astype("int64"),
        }
    )


@pytest.mark.parametrize(
    ("figures", "failed"),
    [
        ({}, []),
        ({"candidate_auc": 0.65}, ["roc_auc_uplift_over_baseline"]),
        ({"candidate_auc": 0.55, "baseline_auc": 0.5}, ["roc_auc"]),
        # ECE 0.015 at a 2% base rate: probabilities off by 75% of the base rate.
        ({"ece": 0.015}, ["ece_over_base_rate"]),
        # The same ECE at a 20% base rate is fine.
        ({"ece": 0.015, "base_rate": 0.2}, []),
    ],
)
def test_the_first_model_is_compared_with_the_baseline(figures, failed, test_set):
    decision = decide_promotion(metrics(**figures), test_set, None, COLUMNS, EVALUATION, GATE)
    assert decision["failed_checks"] == failed
    assert decision["promote"] is (not failed)
    assert decision["compared_with"]["model"] == "baseline"
    assert decision["compared_with"]["metrics"]["roc_auc"] == figures.get("baseline_auc", 0.70)


def test_a_later_model_is_compared_with_the_champion_on_this_test_split(test_set):
    champion = RegisteredModel("churn", "champion", "3", ScoresColumn("signal"))
    scored = decide_promotion(metrics(), test_set, champion, COLUMNS, EVALUATION, GATE)
    figures = scored["compared_with"]["metrics"]
    assert scored["compared_with"]["version"] == "3"
    assert 0.6 < figures["roc_auc"] < 0.9  # the champion scored here, not its old card
    assert "roc_auc_uplift_over_baseline" not in scored["checks"]
    as_good = metrics(candidate_auc=figures["roc_auc"] - 0.004, log_loss=figures["log_loss"])
    assert decide_promotion(as_good, test_set, champion, COLUMNS, EVALUATION, GATE)["promote"]
    worse = metrics(candidate_auc=figures["roc_auc"] - 0.01, log_loss=figures["log_loss"] * 1.02)
    decision = decide_promotion(worse, test_set, champion, COLUMNS, EVALUATION, GATE)
    assert decision["failed_checks"] == ["roc_auc_drop_vs_champion", "log_loss_rise_vs_champion"]
    assert decision["candidate"]["metrics"]["roc_auc"] == pytest.approx(figures["roc_auc"] - 0.01)
    assert apply_promotion({"promotion": decision}) is decision


def test_a_champion_that_cannot_score_the_test_split_is_named(test_set):
    champion = RegisteredModel("churn", "champion", "3", ScoresColumn("other_feature"))
    with pytest.raises(
        ValueError, match=r"champion churn version 3 cannot score this run's test split"
    ):
        decide_promotion(metrics(), test_set, champion, COLUMNS, EVALUATION, GATE)


def test_an_unknown_candidate_is_named(test_set):
    with pytest.raises(ValueError, match=r"'evaluation_metrics' has no model 'lgbm'"):
        decide_promotion(
            metrics(), test_set, None, COLUMNS, EVALUATION, {**GATE, "candidate": "lgbm"}
        )

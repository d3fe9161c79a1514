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


# Predicted revenue (problem_type regression): checks of its own, on regression_report's figures.
REGRESSION_GATE = {
    **GATE,
    "min_normalized_gini": 0.2,
    "max_abs_total_relative_error": 0.25,
    "min_normalized_gini_uplift_over_baseline": 0.0,
    "max_normalized_gini_drop_vs_champion": 0.01,
    "max_rmse_rise_vs_champion": 0.02,
}
REGRESSION_COLUMNS = {**COLUMNS, "target": "revenue", "problem_type": "regression"}


def regression_metrics(gini=0.5, baseline_gini=0.3, total_error=0.05, rmse=10.0):
    row = {"rows": 1000, "mae": 2.0, "decile_calibration_error": 0.5, "mean_actual": 2.0}
    return pd.DataFrame(
        [
            {
                "model": "baseline",
                **row,
                "rmse": 12.0,
                "normalized_gini": baseline_gini,
                "total_relative_error": 0.4,
                "mean_predicted": 2.8,
            },
            {
                "model": "model_calibrated",
                **row,
                "rmse": rmse,
                "normalized_gini": gini,
                "total_relative_error": total_error,
                "mean_predicted": 2.0 * (1 + total_error),
            },
        ]
    )


class PredictsColumn:
    """A registered regression model's predict(): the calibrated prediction is one column."""

    def __init__(self, column: str) -> None:
        self.column = column

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        prediction = rows[self.column].to_numpy()
        return pd.DataFrame({"raw_prediction": prediction, "calibrated_prediction": prediction})


@pytest.fixture
def revenue_test_set() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    expected = rng.gamma(0.3, 10.0, 20000)  # expected revenue per customer
    buys = rng.random(20000) < np.clip(expected / 20.0, 0, 1)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(20000)],
            "signal": expected,
            "revenue": np.where(buys, rng.gamma(4.0, 5.0, 20000), 0.0),
        }
    )


@pytest.mark.parametrize(
    ("figures", "failed"),
    [
        ({}, []),
        ({"gini": 0.25}, ["normalized_gini_uplift_over_baseline"]),
        ({"gini": 0.15, "baseline_gini": 0.1}, ["normalized_gini"]),
        ({"total_error": -0.3}, ["abs_total_relative_error"]),  # |-0.3| > 0.25
        ({"total_error": 0.2}, []),
    ],
)
def test_a_first_regression_model_is_compared_with_the_baseline(figures, failed, revenue_test_set):
    decision = decide_promotion(
        regression_metrics(**figures),
        revenue_test_set,
        None,
        REGRESSION_COLUMNS,
        EVALUATION,
        REGRESSION_GATE,
    )
    assert decision["failed_checks"] == failed
    assert decision["promote"] is (not failed)
    assert set(decision["checks"]) == {
        "normalized_gini",
        "abs_total_relative_error",
        "normalized_gini_uplift_over_baseline",
    }
    assert decision["compared_with"]["model"] == "baseline"
    baseline = decision["compared_with"]["metrics"]["normalized_gini"]
    assert baseline == figures.get("baseline_gini", 0.3)
    uplift = decision["checks"]["normalized_gini_uplift_over_baseline"]["value"]
    assert uplift == pytest.approx(figures.get("gini", 0.5) - baseline)


def test_a_later_regression_model_is_compared_with_the_champion_on_this_test_split(
    revenue_test_set,
):
    champion = RegisteredModel("revenue", "champion", "4", PredictsColumn("signal"))
    scored = decide_promotion(
        regression_metrics(),
        revenue_test_set,
        champion,
        REGRESSION_COLUMNS,
        EVALUATION,
        REGRESSION_GATE,
    )
    figures = scored["compared_with"]["metrics"]
    assert scored["compared_with"]["version"] == "4"
    assert 0.2 < figures["normalized_gini"] < 0.9  # the champion scored here, not its card
    assert figures["mean_actual"] == pytest.approx(revenue_test_set["revenue"].mean())
    assert "normalized_gini_uplift_over_baseline" not in scored["checks"]

    def decide(gini: float, rmse: float) -> dict:
        figures_now = regression_metrics(gini=gini, rmse=rmse)
        return decide_promotion(
            figures_now,
            revenue_test_set,
            champion,
            REGRESSION_COLUMNS,
            EVALUATION,
            REGRESSION_GATE,
        )

    as_good = decide(figures["normalized_gini"] - 0.009, figures["rmse"] * 1.019)
    assert as_good["promote"], as_good["failed_checks"]
    worse = decide(figures["normalized_gini"] - 0.02, figures["rmse"] * 1.03)
    assert worse["failed_checks"] == ["normalized_gini_drop_vs_champion", "rmse_rise_vs_champion"]
    assert worse["checks"]["rmse_rise_vs_champion"]["value"] == pytest.approx(0.03)


def test_a_binary_champion_cannot_judge_a_regression_candidate(revenue_test_set):
    champion = RegisteredModel("revenue", "champion", "2", ScoresColumn("signal"))
    with pytest.raises(ValueError, match=r"champion revenue version 2 cannot score"):
        decide_promotion(
            regression_metrics(),
            revenue_test_set,
            champion,
            REGRESSION_COLUMNS,
            EVALUATION,
            REGRESSION_GATE,
        )


def test_a_missing_regression_setting_or_metric_is_named(revenue_test_set):
    unset = {k: v for k, v in REGRESSION_GATE.items() if k != "min_normalized_gini"}
    with pytest.raises(ValueError, match=r"quality_gate.min_normalized_gini is missing"):
        decide_promotion(
            regression_metrics(), revenue_test_set, None, REGRESSION_COLUMNS, EVALUATION, unset
        )
    # A binary evaluation table under a regression configuration.
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['normalized_gini'"):
        decide_promotion(
            metrics(), revenue_test_set, None, REGRESSION_COLUMNS, EVALUATION, REGRESSION_GATE
        )

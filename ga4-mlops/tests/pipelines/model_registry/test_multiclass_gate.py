"""The quality gate of a multiclass model: multiclass log loss against the baseline for the
first model, against the champion scored on this run's test split after."""

import numpy as np
import pandas as pd
import pytest

from ga4_mlops.datasets.mlflow_model_alias_dataset import RegisteredModel
from ga4_mlops.pipelines.model_evaluation.multiclass_metrics import multiclass_report
from ga4_mlops.pipelines.model_registry.gate import decide_promotion
from ga4_mlops.problem_types import class_score_columns

CLASSES = ["(none)", "Bags", "Office", "New"]
COLUMNS = {
    "id": ["customer_id"],
    "target": "category",
    "numeric": ["signal"],
    "categorical": [],
    "problem_type": "multiclass",
    "classes": CLASSES,
}
GATE = {
    "candidate": "model_calibrated",
    "baseline": "baseline",
    "min_log_loss_improvement_over_baseline": 0.05,
    "max_log_loss_rise_vs_champion": 0.01,
}
EVALUATION = {"n_bins": 10, "calibration_strategy": "quantile"}


def report(candidate_log_loss: float, baseline_log_loss: float = 1.0) -> pd.DataFrame:
    row = {"top_1_accuracy": 0.9, "top_3_accuracy": 0.97, "macro_ece": 0.01}
    return pd.DataFrame(
        [
            {"model": "baseline", "log_loss": baseline_log_loss, **row},
            {"model": "model_calibrated", "log_loss": candidate_log_loss, **row},
        ]
    )


class ServesClassProbabilities:
    """A registered multiclass model's predict(): one calibrated column per class."""

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        signal = rows["signal"].to_numpy()
        probabilities = np.column_stack([1 - signal, signal / 3, signal / 3, signal / 3])
        return pd.DataFrame(probabilities, columns=class_score_columns("calibrated", COLUMNS))


@pytest.fixture
def test_set() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    signal = rng.uniform(0.05, 0.6, 5000)
    bought = rng.random(5000) < signal
    category = np.where(bought, rng.choice(CLASSES[1:], 5000), "(none)")
    return pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(5000)], "signal": signal, "category": category}
    )


@pytest.mark.parametrize(
    ("candidate", "failed"),
    [
        (0.9, []),
        (0.96, ["log_loss_improvement_over_baseline"]),
        (1.1, ["log_loss_improvement_over_baseline"]),
    ],
)
def test_the_first_multiclass_model_must_improve_the_baselines_log_loss(
    candidate, failed, test_set
):
    decision = decide_promotion(report(candidate), test_set, None, COLUMNS, EVALUATION, GATE)
    assert decision["failed_checks"] == failed and decision["promote"] is not failed
    check = decision["checks"]["log_loss_improvement_over_baseline"]
    assert check["value"] == pytest.approx(1 - candidate)
    assert decision["compared_with"]["model"] == "baseline"


def test_a_later_multiclass_model_is_compared_with_the_champion_on_this_test_split(test_set):
    champion = RegisteredModel("ga4_next_category", "champion", "3", ServesClassProbabilities())
    served = ServesClassProbabilities().predict(test_set).to_numpy()
    expected = multiclass_report(
        pd.Categorical(test_set["category"], categories=CLASSES).codes,
        {"champion": served},
        CLASSES,
    ).loc[0, "log_loss"]

    def decide(log_loss: float) -> dict:
        return decide_promotion(report(log_loss), test_set, champion, COLUMNS, EVALUATION, GATE)

    as_good = decide(expected * 1.009)
    assert as_good["promote"], as_good["failed_checks"]
    assert as_good["compared_with"]["metrics"]["log_loss"] == pytest.approx(expected)
    worse = decide(expected * 1.02)
    assert worse["failed_checks"] == ["log_loss_rise_vs_champion"]
    with pytest.raises(ValueError, match=r"min_log_loss_improvement_over_baseline is missing"):
        decide_promotion(
            report(0.5),
            test_set,
            None,
            COLUMNS,
            EVALUATION,
            {"candidate": "model_calibrated", "baseline": "baseline"},
        )

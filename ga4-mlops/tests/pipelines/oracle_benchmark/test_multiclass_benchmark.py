"""The oracle benchmark of the next purchase's category (problem_type multiclass) on a seeded
simulated population with a category taste."""

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ga4_mlops.pipelines.data_generation.nodes import oracle_class_probabilities
from ga4_mlops.pipelines.data_generation.sessions import build_simulation
from ga4_mlops.pipelines.data_generation.vocabulary import ITEM_CATEGORIES
from ga4_mlops.pipelines.oracle_benchmark.nodes import benchmark_against_oracle
from ga4_mlops.problem_types import class_score_columns

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"
HORIZON = 28
CLASSES = ["(none)", *ITEM_CATEGORIES]
COLUMNS = {
    "id": ["user_pseudo_id", "snapshot_date"],
    "target": "next_purchase_category",
    "problem_type": "multiclass",
    "classes": CLASSES,
}
PARAMS = {"horizon_days": HORIZON, "target_event": "purchase"}
MODELS = {"baseline": "baseline", "model_raw": "raw", "model_calibrated": "calibrated"}


def evaluation() -> dict:
    base = yaml.safe_load((CONF / "parameters_model_evaluation.yml").read_text())
    return {**base["model_evaluation"], "models": MODELS}


@pytest.fixture(scope="module")
def population() -> tuple[pd.DataFrame, pd.DataFrame]:
    """ga4_user_truth of a seeded simulation with taste 0.6 and test keys of users seen."""
    data_generation = copy.deepcopy(
        yaml.safe_load((CONF / "parameters_data_generation.yml").read_text())["data_generation"]
    )
    data_generation["session"]["category_taste"] = 0.6
    _, users = build_simulation({**data_generation, "seed": 7, "n_users": 60000, "n_days": 60})
    snapshot = users["first_touch_date"].max() - pd.Timedelta(days=20)
    seen = users.loc[users["first_touch_date"] < snapshot, "user_pseudo_id"]
    keys = pd.DataFrame({"user_pseudo_id": seen.to_numpy(), "snapshot_date": snapshot})
    return users, keys


def test_class_benchmark_compares_every_model_with_the_oracle(population):
    users, keys = population
    rng = np.random.default_rng(3)
    oracle = oracle_class_probabilities(users, keys, HORIZON, COLUMNS).to_numpy()
    # labels drawn from the oracle: the oracle is the truth of this test split
    labels = (rng.random(len(keys))[:, None] > np.cumsum(oracle, axis=1)).sum(axis=1)
    labels = np.minimum(labels, len(CLASSES) - 1)
    shares = np.bincount(labels, minlength=len(CLASSES)) / len(labels)
    # the taste ignored: popularity shares of the categories (the oracle's average ones)
    buy = 1 - oracle[:, :1]
    untasted = np.hstack([1 - buy, buy * oracle[:, 1:].sum(axis=0) / buy.sum()])
    scores = {"baseline": np.tile(shares, (len(keys), 1)), "raw": untasted, "calibrated": oracle}
    test_predictions = keys.assign(next_purchase_category=np.asarray(CLASSES)[labels])
    for role, values in scores.items():
        for column, values_of_class in zip(
            class_score_columns(role, COLUMNS), values.T, strict=True
        ):
            test_predictions[column] = values_of_class
    table, mlflow_metrics = benchmark_against_oracle(
        users, test_predictions, COLUMNS, evaluation(), PARAMS
    )
    assert (labels > 0).sum() > 300  # buyers: enough for the gaps to mean something
    assert table["model"].tolist() == ["oracle", "baseline", "model_raw", "model_calibrated"]
    rows = table.set_index("model")
    assert rows.loc["oracle", "log_loss_gap_to_oracle"] == 0.0
    assert rows.loc["model_calibrated", "log_loss_gap_to_oracle"] == pytest.approx(0.0, abs=1e-9)
    # the taste is what the oracle knows beyond the purchase propensity and the popularity
    assert rows.loc["model_raw", "log_loss_gap_to_oracle"] > 0.005
    assert (
        rows.loc["baseline", "log_loss_gap_to_oracle"]
        > rows.loc["model_raw"].log_loss_gap_to_oracle
    )
    assert rows.loc["oracle", "top_3_accuracy"] > rows.loc["model_raw", "top_3_accuracy"]
    metrics = ("log_loss", "top_1_accuracy", "top_3_accuracy", "log_loss_gap_to_oracle")
    assert set(mlflow_metrics) == {f"{model}.{m}" for model in rows.index for m in metrics}
    assert mlflow_metrics["model_raw.log_loss_gap_to_oracle"] == {
        "value": pytest.approx(rows.loc["model_raw", "log_loss_gap_to_oracle"]),
        "step": 0,
    }


def test_class_benchmark_names_what_is_missing(population):
    users, keys = population
    test_predictions = keys.head(5).assign(next_purchase_category="(none)")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['baseline_probability_none'"):
        benchmark_against_oracle(users, test_predictions, COLUMNS, evaluation(), PARAMS)

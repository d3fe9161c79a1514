"""Batch scores follow the served model: probabilities (binary) or predicted revenue
(regression), from a real LightGBM model saved and loaded through MLflow."""

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator

from ga4_mlops.datasets.mlflow_model_alias_dataset import RegisteredModel
from ga4_mlops.pipelines.batch_scoring.nodes import score_rows
from ga4_mlops.pipelines.feature_engineering.nodes import encode_features, fit_preprocessor
from ga4_mlops.pipelines.model_training.regression import make_tweedie_regressor
from ga4_mlops.scoring_model import PropensityModel
from tests.conftest import CHURN_COLUMNS, make_churn_table

SETTINGS = {"n_estimators": 30, "learning_rate": 0.1, "verbosity": -1, "random_state": 0}


def served(
    tmp_path, rows: pd.DataFrame, columns: dict, kind: str, legacy: bool = False
) -> RegisteredModel:
    """A PropensityModel of ``kind`` saved with MLflow and loaded back as a pyfunc model;
    ``legacy``: pickled without ``problem_type``, as versions registered before it existed."""
    preprocessor = fit_preprocessor(rows, columns, {"min_category_count": 5})
    features = encode_features(preprocessor, rows)
    if kind == "binary":
        model = lgb.LGBMClassifier(**SETTINGS).fit(features, rows["churned"].astype("int64"))
        calibrator = FrozenEstimator(
            lgb.LGBMClassifier(**SETTINGS, max_depth=2).fit(
                features, rows["churned"].astype("int64")
            )
        )
    else:
        model = make_tweedie_regressor({"n_estimators": 30}).fit(features, rows["revenue"])
        calibrator = make_tweedie_regressor({"n_estimators": 5}).fit(features, rows["revenue"])
    path = tmp_path / f"model_{kind}"
    python_model = PropensityModel(preprocessor, model, calibrator, problem_type=kind)
    if legacy:
        del python_model.problem_type
    mlflow.pyfunc.save_model(path, python_model=python_model)
    return RegisteredModel("m", "champion", "3", mlflow.pyfunc.load_model(str(path)))


@pytest.fixture
def rows() -> pd.DataFrame:
    table = make_churn_table(n_customers=800, seed=2)
    table = table[table["churned"].notna()].reset_index(drop=True)
    rng = np.random.default_rng(0)
    table["revenue"] = np.where(table["churned"] == 0, rng.gamma(2.0, 15.0, len(table)), 0.0)
    return table


@pytest.mark.parametrize(
    ("kind", "raw", "calibrated"),
    [
        ("binary", "raw_probability", "calibrated_probability"),
        ("regression", "raw_prediction", "calibrated_prediction"),
    ],
)
def test_score_columns_and_deciles_follow_the_problem_type(tmp_path, rows, kind, raw, calibrated):
    columns = {**CHURN_COLUMNS, "problem_type": kind}
    champion = served(tmp_path, rows, columns, kind)
    scores = score_rows(champion, rows, columns)
    assert list(scores.columns) == [
        "customer_id",
        "as_of",
        raw,
        calibrated,
        "decile",
        "model_name",
        "model_version",
    ]
    served_scores = champion.model.predict(rows[[*columns["numeric"], *columns["categorical"]]])
    np.testing.assert_allclose(scores[raw], served_scores[raw])
    np.testing.assert_allclose(scores[calibrated], served_scores[calibrated])
    assert not np.allclose(scores[raw], scores[calibrated])
    # Decile 1 holds the highest calibrated scores, ties broken by the raw score.
    order = scores.sort_values([calibrated, raw], ascending=False, kind="stable")
    assert order["decile"].is_monotonic_increasing
    assert scores["decile"].value_counts().tolist() == [len(scores) // 10] * 10
    if kind == "regression":
        assert (scores[calibrated] > 0).all() and scores[calibrated].max() > 1.0  # amounts


def test_without_a_problem_type_the_scores_are_binarys(tmp_path, rows):
    """Columns without ``problem_type`` (every configuration before it existed) are binary,
    and so is a model registered before the served model had a ``problem_type``."""
    champion = served(tmp_path, rows, CHURN_COLUMNS, "binary", legacy=True)
    scores = score_rows(champion, rows, CHURN_COLUMNS)
    assert {"raw_probability", "calibrated_probability"} <= set(scores.columns)
    assert scores["calibrated_probability"].between(0, 1).all()

"""A predicted-revenue model (problem_type regression) through the registry: packaged with a
real LightGBM Tweedie regressor, registered in MLflow (sqlite), promoted, loaded by alias,
scored in batch, served without Kedro, and compared with by the quality gate."""

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator

from ga4_mlops.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from ga4_mlops.datasets.signed_pyfunc_model_dataset import SignedPyfuncModelDataset
from ga4_mlops.pipelines.batch_scoring.nodes import score_rows
from ga4_mlops.pipelines.feature_engineering.nodes import encode_features, fit_preprocessor
from ga4_mlops.pipelines.model_evaluation.regression_metrics import regression_report
from ga4_mlops.pipelines.model_registry.gate import decide_promotion
from ga4_mlops.pipelines.model_registry.nodes import package_model
from ga4_mlops.pipelines.model_training.regression import (
    make_tweedie_regressor,
    make_two_part_regressor,
)
from ga4_mlops.revenue_models import ScaledRegressor
from tests.conftest import CHURN_COLUMNS, CHURN_DATES, CHURN_SPLITS, make_churn_table
from tests.serving_helpers import score_without

COLUMNS = {**CHURN_COLUMNS, "target": "revenue", "problem_type": "regression"}
GATE = {
    "candidate": "model_calibrated",
    "baseline": "baseline",
    "min_normalized_gini": 0.2,
    "max_abs_total_relative_error": 0.25,
    "min_normalized_gini_uplift_over_baseline": 0.0,
    "max_normalized_gini_drop_vs_champion": 0.01,
    "max_rmse_rise_vs_champion": 0.02,
}
EVALUATION = {"n_bins": 10, "calibration_strategy": "quantile"}


def revenue_table(seed: int = 0) -> pd.DataFrame:
    """The conftest's table with a zero-inflated revenue target: a buyer's share that
    depends on tenure and tickets, an amount that depends on the plan."""
    table = make_churn_table(n_customers=1500, seed=seed).drop(columns="churned")
    rng = np.random.default_rng(seed + 1)
    tickets = table["support_tickets"].fillna(1.0)
    buys = rng.random(len(table)) < 1 / (1 + np.exp(2.5 - 1.2 * (table["tenure_months"] > 15)))
    amount = rng.gamma(2.0, np.where(table["plan"] == "pro", 60.0, 20.0) + 5.0 * tickets)
    table["revenue"] = np.where(buys, np.round(amount, 2), 0.0)
    table.loc[table["as_of"] == pd.Timestamp(CHURN_DATES[-1]), "revenue"] = np.nan
    return table


@pytest.fixture(scope="module")
def fitted():
    table = revenue_table()
    dates = pd.to_datetime(table["as_of"])
    train = table[dates.isin(pd.to_datetime(CHURN_SPLITS["train"]))]
    test = table[dates.isin(pd.to_datetime(CHURN_SPLITS["test"]))].reset_index(drop=True)
    scoring = table[dates.isin(pd.to_datetime(CHURN_SPLITS["scoring"]))].reset_index(drop=True)
    preprocessor = fit_preprocessor(train, COLUMNS, {"min_category_count": 5})
    features = encode_features(preprocessor, train)
    target = train["revenue"].to_numpy(dtype="float64")
    model = make_tweedie_regressor({"n_estimators": 60, "learning_rate": 0.1}, seed=7)
    model.fit(features, target)
    calibrator = make_tweedie_regressor({"n_estimators": 15, "learning_rate": 0.1}, seed=3)
    calibrator.fit(features, target)
    return preprocessor, model, calibrator, test, scoring


def evaluation_table(preprocessor, model, calibrator, test: pd.DataFrame) -> pd.DataFrame:
    """``evaluation_metrics`` as the regression evaluation writes it (regression_report)."""
    features = encode_features(preprocessor, test)
    return regression_report(
        test["revenue"].to_numpy(dtype="float64"),
        {
            "baseline": test["tenure_months"].to_numpy(dtype="float64"),
            "model_raw": model.predict(features),
            "model_calibrated": calibrator.predict(features),
        },
    )


def test_a_regression_model_is_registered_served_and_scored_in_batch(fitted, tmp_path, monkeypatch):
    preprocessor, model, calibrator, test, scoring = fitted
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    metrics = evaluation_table(preprocessor, model, calibrator, test)
    packaged, card = package_model(
        preprocessor, model, calibrator, {}, metrics, COLUMNS, CHURN_SPLITS, scoring
    )
    assert card["problem_type"] == "regression" and card["target"] == "revenue"
    assert card["calibration_method"] == "LGBMRegressor"  # no `method`: named by its class
    assert set(card["test_metrics"]) == {"baseline", "model_raw", "model_calibrated"}
    assert card["test_metrics"]["model_calibrated"]["normalized_gini"] == pytest.approx(
        float(metrics.loc[2, "normalized_gini"])
    )

    with mlflow.start_run():
        SignedPyfuncModelDataset(name="model", registered_model_name="revenue").save(packaged)
        MlflowModelAliasDataset(model_name="revenue", alias="champion").save(
            {"promote": True, "checks": {}, "failed_checks": []}
        )
    loaded = mlflow.pyfunc.load_model("models:/revenue/1")
    assert loaded.metadata.get_output_schema().input_names() == [
        "raw_prediction",
        "calibrated_prediction",
    ]

    champion = MlflowModelAliasDataset(model_name="revenue", alias="champion").load()
    scores = score_rows(champion, scoring, COLUMNS)
    encoded = encode_features(preprocessor, scoring)
    np.testing.assert_allclose(scores["raw_prediction"], model.predict(encoded))
    np.testing.assert_allclose(scores["calibrated_prediction"], calibrator.predict(encoded))
    assert not np.allclose(scores["raw_prediction"], scores["calibrated_prediction"])
    assert (scores["calibrated_prediction"] >= 0).all()
    assert list(scores.columns) == [
        "customer_id",
        "as_of",
        "raw_prediction",
        "calibrated_prediction",
        "decile",
        "model_name",
        "model_version",
    ]
    top = scores.loc[scores["decile"] == 1, "calibrated_prediction"].min()
    assert top >= scores.loc[scores["decile"] == 2, "calibrated_prediction"].max()
    assert sorted(scores["decile"].unique()) == list(range(1, 11))

    # A later candidate is compared with this champion, scored on this run's test split.
    decision = decide_promotion(metrics, test, champion, COLUMNS, EVALUATION, GATE)
    champion_figures = decision["compared_with"]["metrics"]
    expected = regression_report(
        test["revenue"].to_numpy(dtype="float64"),
        {"champion": calibrator.predict(encode_features(preprocessor, test))},
    )
    assert decision["compared_with"]["version"] == "1"
    assert champion_figures["normalized_gini"] == pytest.approx(expected.loc[0, "normalized_gini"])
    assert champion_figures["rmse"] == pytest.approx(expected.loc[0, "rmse"])
    # The candidate is the champion itself: no Gini drop, no RMSE rise.
    assert decision["checks"]["normalized_gini_drop_vs_champion"]["value"] == pytest.approx(0)
    assert decision["checks"]["rmse_rise_vs_champion"]["value"] == pytest.approx(0)

    # A binary configuration refuses the regression champion's output, naming the problem.
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['raw_probability'"):
        score_rows(champion, scoring, {**COLUMNS, "problem_type": "binary"})


# The served model unpickles the regressor and calibrator by their classes' modules: the
# two-part model and the scale calibrator live in ga4_mlops.revenue_models, a plain module
# (a pipeline package's __init__ imports Kedro). LightGBM's own classes (tweedie) load too.
@pytest.mark.parametrize("kind", ["tweedie", "two_part"])
def test_the_regression_model_is_served_without_kedro(fitted, tmp_path, monkeypatch, kind):
    preprocessor, model, _, test, scoring = fitted
    if kind == "two_part":
        train = revenue_table().query("as_of < @pd.Timestamp('2024-01-21')")
        model = make_two_part_regressor(
            {"classifier_params": {"n_estimators": 20}, "severity_params": {"n_estimators": 20}}
        ).fit(encode_features(preprocessor, train), train["revenue"])
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    packaged, _ = package_model(
        preprocessor,
        model,
        ScaledRegressor(model, 1.1) if kind == "two_part" else FrozenEstimator(model),
        {},
        evaluation_table(preprocessor, model, model, test),
        COLUMNS,
        CHURN_SPLITS,
        scoring,
    )
    with mlflow.start_run():
        SignedPyfuncModelDataset(name="model", registered_model_name="revenue").save(packaged)
    features = [*COLUMNS["numeric"], *COLUMNS["categorical"]]
    served = score_without(
        "models:/revenue/1",
        scoring[features].head(10),
        ("kedro", "kedro_mlflow", "kedro_datasets", "optuna", "shap", "duckdb", "sqlglot"),
        f"sqlite:///{tmp_path}/mlflow.db",
        tmp_path,
    )
    assert served["columns"] == ["raw_prediction", "calibrated_prediction"]

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError
from mlflow.exceptions import MlflowException

from ga4_mlops.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from ga4_mlops.datasets.signed_pyfunc_model_dataset import SignedPyfuncModelDataset
from ga4_mlops.pipelines.batch_scoring.nodes import score_rows
from ga4_mlops.pipelines.feature_engineering.nodes import (
    encode_features,
    fit_preprocessor,
    split_by_date,
)
from ga4_mlops.pipelines.model_registry.nodes import package_model
from ga4_mlops.pipelines.model_training.estimator import KINDS, problem_types_of
from ga4_mlops.pipelines.model_training.nodes import (
    fit_calibrator,
    train_model,
    tune_hyperparameters,
)
from tests.conftest import small_model_params


def _metrics(candidate_auc: float, baseline_auc: float, ece: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"model": "baseline", "roc_auc": baseline_auc, "ece": 0.01},
            {"model": "model_calibrated", "roc_auc": candidate_auc, "ece": ece},
        ]
    )


# The classifiers (problem_type binary); the regression kinds are tested in test_regression.py.
BINARY_KINDS = sorted(name for name in KINDS if "binary" in problem_types_of(name))


@pytest.fixture(params=BINARY_KINDS)
def fitted(request, churn_table, churn_columns, churn_splits):
    """Whatever model each binary kind builds, tuned in one trial and refitted on train."""
    train, validation, calibration, _, scoring = split_by_date(
        churn_table, churn_columns, churn_splits
    )
    preprocessor = fit_preprocessor(train, churn_columns, {"min_category_count": 5})
    params = small_model_params(request.param, n_trials=1)
    train_features = encode_features(preprocessor, train)
    hyperparameters, _ = tune_hyperparameters(
        train_features,
        train,
        encode_features(preprocessor, validation),
        validation,
        churn_columns,
        params,
    )
    model = train_model(train_features, train, churn_columns, hyperparameters, params)
    calibrator, _, _ = fit_calibrator(
        model,
        encode_features(preprocessor, calibration),
        calibration,
        churn_columns,
        {"methods": ["isotonic"], "cv_folds": 3, "seed": 0},
    )
    return preprocessor, model, calibrator, scoring, hyperparameters


def test_registered_model_scores_like_its_parts_and_promotion_moves_the_alias(
    fitted, churn_columns, churn_splits, tmp_path, monkeypatch
):
    preprocessor, model, calibrator, scoring, hyperparameters = fitted
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    champion = MlflowModelAliasDataset(model_name="churn", alias="champion")
    with pytest.raises(
        DatasetError, match="No version of registered model 'churn' has alias 'champion'"
    ):
        champion.load()

    propensity_model = SignedPyfuncModelDataset(name="model", registered_model_name="churn")
    for promote in (True, False):
        packaged, card = package_model(
            preprocessor,
            model,
            calibrator,
            hyperparameters,
            _metrics(0.8, 0.7, 0.01),
            churn_columns,
            churn_splits,
            scoring,
        )
        assert card["test_metrics"]["model_calibrated"]["roc_auc"] == 0.8
        with mlflow.start_run():
            propensity_model.save(packaged)
            champion.save(
                {"promote": promote, "checks": {}, "failed_checks": [] if promote else ["ece"]}
            )

    loaded = champion.load()
    assert (loaded.name, loaded.alias, loaded.version) == (
        "churn",
        "champion",
        "1",
    )  # v2 failed the gate
    versions = mlflow.MlflowClient().search_model_versions("name='churn'")
    assert {str(v.version): v.tags["promoted"] for v in versions} == {"1": "True", "2": "False"}

    scores = score_rows(loaded, scoring, churn_columns)
    expected_raw = model.predict_proba(encode_features(preprocessor, scoring))[:, 1]
    np.testing.assert_allclose(scores["raw_probability"], expected_raw)
    expected_calibrated = calibrator.predict_proba(encode_features(preprocessor, scoring))[:, 1]
    np.testing.assert_allclose(scores["calibrated_probability"], expected_calibrated)
    assert scores["customer_id"].tolist() == scoring["customer_id"].tolist()
    assert scores["model_version"].unique().tolist() == ["1"]
    assert sorted(scores["decile"].unique()) == list(range(1, 11))
    top = scores.loc[scores["decile"] == 1, "calibrated_probability"].min()
    assert top >= scores.loc[scores["decile"] == 2, "calibrated_probability"].max()


def test_model_rejects_rows_without_its_columns(fitted, churn_columns, churn_splits):
    preprocessor, model, calibrator, scoring, hyperparameters = fitted
    packaged, _ = package_model(
        preprocessor,
        model,
        calibrator,
        hyperparameters,
        _metrics(0.8, 0.7, 0.01),
        churn_columns,
        churn_splits,
        scoring,
    )
    with pytest.raises(ValueError, match=r"model input lacks column\(s\) \['plan'\]"):
        packaged["python_model"].predict(None, scoring.drop(columns="plan"))


def test_registered_model_has_a_signature_that_names_a_missing_column(
    fitted, churn_columns, churn_splits, tmp_path, monkeypatch
):
    preprocessor, model, calibrator, scoring, hyperparameters = fitted
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    packaged, _ = package_model(
        preprocessor,
        model,
        calibrator,
        hyperparameters,
        _metrics(0.8, 0.7, 0.01),
        churn_columns,
        churn_splits,
        scoring,
    )
    dataset = SignedPyfuncModelDataset(name="model", registered_model_name="churn")
    with pytest.raises(DatasetError, match="no active MLflow run"):
        dataset.save(packaged)
    with mlflow.start_run():
        dataset.save(packaged)

    loaded = mlflow.pyfunc.load_model("models:/churn/1")
    inputs = loaded.metadata.get_input_schema()
    features = [*churn_columns["numeric"], *churn_columns["categorical"]]
    assert inputs.input_names() == features
    assert all(column.required for column in inputs.inputs)
    assert {column.name: column.type.name for column in inputs.inputs}["tenure_months"] == "double"
    assert loaded.metadata.get_output_schema().input_names() == [
        "raw_probability",
        "calibrated_probability",
    ]
    assert loaded.metadata.saved_input_example_info is not None
    example = loaded.input_example
    assert list(example.columns) == features and len(example) == 5

    rows = scoring[features].head(20).copy()
    rows.loc[rows.index[0], ["support_tickets", "plan"]] = [np.nan, None]  # missing values pass
    assert loaded.predict(rows)["calibrated_probability"].between(0, 1).all()
    with pytest.raises(MlflowException, match=r"missing inputs \['plan'\]"):
        loaded.predict(rows.drop(columns="plan"))

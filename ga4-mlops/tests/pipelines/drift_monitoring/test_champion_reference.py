"""Drift compares the champion's scores with the champion's own references (issue 24).

A champion is registered; a later training run writes other train rows and test predictions
and registers a version that the quality gate refuses (the alias stays). Drift monitoring,
run with Kedro's runner on the project's real catalog and a real MLflow on sqlite (no mocks),
must still compare with the champion's train rows and test scores, and so must the weekly
inference's drift, which the retraining decision reads.
"""

import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from ga4_mlops.config_resolvers import CUSTOM_RESOLVERS
from ga4_mlops.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from ga4_mlops.pipelines import drift_monitoring, inference, model_registry
from ga4_mlops.pipelines.drift_monitoring.nodes import compute_drift_report

from ..model_evaluation.mlflow_catalog import BLUEPRINT
from .test_nodes import _scores

CONF_FILES = (
    "globals.yml",
    "catalog.yml",
    "catalog_model_registry.yml",
    "catalog_drift_monitoring.yml",
    "catalog_inference.yml",
    "parameters_drift_monitoring.yml",
)
CHAMPION_RUN, REFUSED_RUN, MONITORING_RUN = (
    "2026-01-01T00.00.00.000Z",
    "2026-01-08T00.00.00.000Z",
    "2026-01-09T00.00.00.000Z",
)


class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


def project_config(project: Path) -> tuple[dict, dict, dict]:
    """Catalog, drift parameters and registered model (name, alias) as Kedro reads them."""
    base = project / "conf" / "base"
    base.mkdir(parents=True)
    (project / "conf" / "local").mkdir()
    for name in CONF_FILES:
        shutil.copy2(BLUEPRINT / "conf" / "base" / name, base / name)
    loader = OmegaConfigLoader(
        conf_source=str(project / "conf"),
        base_env="base",
        default_run_env="local",
        custom_resolvers=CUSTOM_RESOLVERS,
    )
    return (
        loader["catalog"],
        loader["parameters"]["drift_monitoring"],
        loader["globals"]["registered_model"],
    )


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    yield tmp_path
    mlflow.set_tracking_uri(previous)


def catalog_of_run(config: dict, save_version: str, parameters: dict) -> DataCatalog:
    catalog = DataCatalog.from_config(config, save_version=save_version)
    for name, value in parameters.items():
        catalog[f"params:{name}"] = MemoryDataset(data=value)
    return catalog


def training_run(catalog: DataCatalog, model: dict, train_set, test_predictions, promote: bool):
    """What a training run leaves: its train rows and test predictions on disk, whatever the
    registering pipeline logs from them, a registered version, the gate's decision."""
    with mlflow.start_run():
        catalog.save("train_set", train_set)
        catalog.save("test_predictions", test_predictions)
        written = {"train_set", "test_predictions"}
        logging_nodes = [
            node
            for node in model_registry.create_pipeline().nodes
            if {name for name in node.inputs if not name.startswith("params:")} <= written
        ]
        SequentialRunner().run(Pipeline(logging_nodes), catalog)
        mlflow.pyfunc.log_model(
            name="model", python_model=Constant(), registered_model_name=model["name"]
        )
        MlflowModelAliasDataset(model["name"], model["alias"]).save(
            {"promote": promote, "checks": {}, "failed_checks": [] if promote else ["roc_auc"]}
        )


def test_drift_after_a_refused_retrain_uses_the_champions_references(
    project, churn_table, churn_columns
):
    config, params, model = project_config(project)
    parameters = {"model_input.columns": churn_columns, "drift_monitoring": params}
    last_date = churn_table[churn_columns["date"]].max()
    champion_train = churn_table.loc[churn_table[churn_columns["date"]] < last_date]
    scoring_set = churn_table.loc[churn_table[churn_columns["date"]] == last_date]
    champion_test_scores = _scores(400, seed=0)
    batch_scores = _scores(len(scoring_set), seed=1)
    # The refused run saw other rows and scored higher.
    refused_train = champion_train.assign(tenure_months=champion_train["tenure_months"] * 3 + 7)
    refused_test_scores = _scores(400, seed=2, shift=1.5)

    training_run(
        catalog_of_run(config, CHAMPION_RUN, parameters),
        model,
        champion_train,
        champion_test_scores,
        promote=True,
    )
    training_run(
        catalog_of_run(config, REFUSED_RUN, parameters),
        model,
        refused_train,
        refused_test_scores,
        promote=False,
    )
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias(model["name"], model["alias"]).version in (1, "1")

    catalog = catalog_of_run(config, MONITORING_RUN, parameters)
    catalog.save("scoring_set", scoring_set)
    catalog.save("batch_scores", batch_scores)
    # The weekly inference's drift (read by the retraining decision) on the same rows.
    catalog["inference_rows"] = MemoryDataset(data=scoring_set)
    catalog["inference_scores_of_date"] = MemoryDataset(data=batch_scores)
    weekly_drift = inference.create_pipeline().only_nodes("compute_inference_drift_report")
    with mlflow.start_run():
        SequentialRunner().run(drift_monitoring.create_pipeline() + weekly_drift, catalog)
    report = catalog.load("drift_report").set_index("feature")
    weekly_report = catalog.load("inference_drift_report").set_index("feature")

    expected = compute_drift_report(
        champion_train, scoring_set, champion_test_scores, batch_scores, churn_columns, params
    ).set_index("feature")
    against_refused = compute_drift_report(
        refused_train, scoring_set, refused_test_scores, batch_scores, churn_columns, params
    ).set_index("feature")
    score = params["score_column"]
    # The refused run's references would raise alerts; the champion's do not.
    assert against_refused.loc[score, "status"] == "alert"
    assert against_refused.loc["tenure_months", "status"] == "alert"
    assert report.loc[score, "psi"] == pytest.approx(expected.loc[score, "psi"])
    assert report.loc[score, "status"] == "ok"
    pd.testing.assert_frame_equal(report, expected, check_exact=False)
    pd.testing.assert_frame_equal(weekly_report, expected, check_exact=False)

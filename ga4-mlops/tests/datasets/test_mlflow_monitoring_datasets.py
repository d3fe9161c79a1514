"""The registry metrics table and the tags dataset, on a real sqlite MLflow store."""

import mlflow
import pytest
from kedro.io import DatasetError
from mlflow.tracking import MlflowClient

from ga4_mlops.datasets.mlflow_model_metrics_dataset import MlflowModelMetricsDataset
from ga4_mlops.datasets.mlflow_tags_dataset import MlflowTagsDataset


class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


@pytest.fixture
def tracking(tmp_path):
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    yield MlflowClient(tracking_uri=uri)
    mlflow.set_tracking_uri(previous)


def register(name: str, metrics: dict[str, float]) -> None:
    with mlflow.start_run():
        mlflow.log_metrics(metrics)
        mlflow.pyfunc.log_model(name="model", python_model=Constant(), registered_model_name=name)


def test_metrics_of_every_version_by_prefix(tracking):
    register("propensity", {"test.calibrated.roc_auc": 0.81, "test.baseline.roc_auc": 0.7})
    register("propensity", {"test.calibrated.roc_auc": 0.84, "test.calibrated.ece": 0.01})
    table = MlflowModelMetricsDataset("propensity", "test.calibrated.").load()
    assert table.to_dict("records") == [
        {"model_version": "1", "metric": "roc_auc", "value": 0.81},
        {"model_version": "2", "metric": "ece", "value": 0.01},
        {"model_version": "2", "metric": "roc_auc", "value": 0.84},
    ]


def test_an_unregistered_model_gives_an_empty_table(tracking):
    table = MlflowModelMetricsDataset("nothing_here", "test.").load()
    assert table.empty and list(table.columns) == ["model_version", "metric", "value"]
    with pytest.raises(DatasetError, match="read-only"):
        MlflowModelMetricsDataset("nothing_here").save({"roc_auc": 0.9})


def test_tags_are_set_on_the_active_run_with_the_prefix(tracking):
    with mlflow.start_run() as run:
        MlflowTagsDataset(prefix="retraining.").save({"decision": "retrain", "reasons": "x" * 6000})
    tags = tracking.get_run(run.info.run_id).data.tags
    assert tags["retraining.decision"] == "retrain"
    assert len(tags["retraining.reasons"]) == 5000


def test_tags_without_an_active_run_fail_loudly(tracking):
    with pytest.raises(DatasetError, match=r"Cannot set tags \['decision'\]: no active MLflow run"):
        MlflowTagsDataset().save({"decision": "keep"})

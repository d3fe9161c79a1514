"""An artifact saved to the registering run, loaded from the run behind the alias (real MLflow
on sqlite, no mocks)."""

import mlflow
import pandas as pd
import pytest
from kedro.io import DatasetError
from mlflow.tracking import MlflowClient

from ga4_mlops.datasets.mlflow_alias_artifact_dataset import MlflowAliasArtifactDataset


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


def reference(name: str = "propensity") -> MlflowAliasArtifactDataset:
    return MlflowAliasArtifactDataset(
        model_name=name,
        alias="champion",
        artifact_path="drift_reference",
        file_name="test_scores.parquet",
        dataset={"type": "pandas.ParquetDataset"},
    )


def register(client: MlflowClient, data: pd.DataFrame | None, champion: bool) -> str:
    """A run that logs ``data`` (unless None) and registers a version; the alias moves to it
    only when ``champion``."""
    with mlflow.start_run() as run:
        if data is not None:
            reference().save(data)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Constant(), registered_model_name="propensity"
        )
    if champion:
        client.set_registered_model_alias("propensity", "champion", info.registered_model_version)
    return run.info.run_id


def test_loads_the_champions_artifact_not_a_later_runs(tracking):
    champion = pd.DataFrame({"calibrated_probability": [0.1, 0.2, 0.3]})
    run_id = register(tracking, champion, champion=True)
    register(tracking, pd.DataFrame({"calibrated_probability": [0.9, 0.8]}), champion=False)
    assert [item.path for item in tracking.list_artifacts(run_id, "drift_reference")] == [
        "drift_reference/test_scores.parquet"
    ]
    pd.testing.assert_frame_equal(reference().load(), champion)


def test_no_champion_names_the_model_and_the_alias(tracking):
    with pytest.raises(
        DatasetError,
        match=r"No version of registered model 'nothing_here' has alias 'champion'.*"
        r"drift_reference/test_scores\.parquet",
    ):
        reference("nothing_here").load()


def test_a_champion_without_the_artifact_names_the_run_and_the_file(tracking):
    run_id = register(tracking, None, champion=True)
    with pytest.raises(
        DatasetError,
        match=f"Run {run_id} behind version 1 of registered model 'propensity' \\(alias "
        "'champion'\\) has no artifact 'drift_reference/test_scores.parquet'",
    ):
        reference().load()


def test_saving_needs_an_active_run(tracking):
    with pytest.raises(DatasetError, match="no active MLflow run"):
        reference().save(pd.DataFrame({"calibrated_probability": [0.5]}))


@pytest.mark.parametrize(
    ("file_name", "dataset", "message"),
    [
        ("data/test_scores.parquet", "pandas.ParquetDataset", "'file_name' must be a file name"),
        (
            "test_scores.parquet",
            {"type": "pandas.ParquetDataset", "filepath": "x.parquet"},
            "takes no 'filepath'",
        ),
    ],
)
def test_the_artifact_is_named_by_file_name_only(file_name, dataset, message):
    with pytest.raises(ValueError, match=message):
        MlflowAliasArtifactDataset(
            model_name="propensity",
            alias="champion",
            artifact_path="drift_reference",
            file_name=file_name,
            dataset=dataset,
        )

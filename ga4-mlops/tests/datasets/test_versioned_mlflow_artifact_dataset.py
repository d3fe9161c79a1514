import uuid

import fsspec
import mlflow
import pandas as pd
import pytest
from kedro.io import DataCatalog
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient

from tests.conftest import list_artifact_files

DATASET = "ga4_mlops.datasets.versioned_mlflow_artifact_dataset.VersionedMlflowArtifactDataset"
FIRST, SECOND = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"


@pytest.fixture
def tracking(tmp_path):
    previous = mlflow.get_tracking_uri()
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    yield MlflowClient(tracking_uri=uri)
    mlflow.set_tracking_uri(previous)


def _entry(filepath: str, dataset_type: str = "pandas.CSVDataset", **extra) -> dict:
    return {
        "type": DATASET,
        "versioned": True,
        "artifact_path": "reports",
        "dataset": {"type": dataset_type, "filepath": filepath},
        **extra,
    }


def test_wrapped_dataset_takes_the_catalog_versions(tmp_path, tracking, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = {"report": _entry("data/report.csv")}
    for version, value in ((FIRST, 1), (SECOND, 2)):
        catalog = DataCatalog.from_config(config, save_version=version)
        with mlflow.start_run() as run:
            catalog.save("report", pd.DataFrame({"a": [value]}))
        assert (tmp_path / "data/report.csv" / version / "report.csv").is_file()
        assert list_artifact_files(tracking, run.info.run_id) == {"reports/report.csv"}
    pinned = DataCatalog.from_config(config, load_versions={"report": FIRST})
    assert pinned.load("report")["a"].tolist() == [1]
    assert DataCatalog.from_config(config).load("report")["a"].tolist() == [2]  # latest


def test_remote_files_and_folders_are_logged_from_a_local_copy(tracking):
    root = f"memory://bucket-{uuid.uuid4().hex}"
    catalog = DataCatalog.from_config(
        {
            "report": _entry(f"{root}/report.csv"),
            "plots": _entry(f"{root}/plots", "matplotlib.MatplotlibDataset"),
            "quiet": _entry(f"{root}/quiet.csv"),
        },
        save_version=FIRST,
    )
    figure = Figure()
    figure.add_subplot().plot([1, 2])
    catalog["quiet"]._logging_activated = False  # what kedro-mlflow's hook does when disabled
    with mlflow.start_run() as run:
        catalog.save("report", pd.DataFrame({"a": [1]}))
        catalog.save("plots", {"a.png": figure, "b.png": figure})
        catalog.save("quiet", pd.DataFrame({"a": [1]}))
    assert list_artifact_files(tracking, run.info.run_id) == {
        "reports/report.csv",
        "reports/plots/a.png",
        "reports/plots/b.png",
    }
    written = fsspec.filesystem("memory").find("/")
    assert any(path.endswith(f"quiet.csv/{FIRST}/quiet.csv") for path in written)
    assert catalog.load("report")["a"].tolist() == [1]

import os
import subprocess
import sys
import textwrap
import uuid

import fsspec
import mlflow
import pandas as pd
import pytest
from kedro.io import DataCatalog
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient

from tests.kedro_cli import list_artifact_files

PACKAGE = "recommender_ranking"
DATASET = f"{PACKAGE}.datasets.versioned_mlflow_artifact_dataset.VersionedMlflowArtifactDataset"
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
    root = f"memory:///bucket-{uuid.uuid4().hex}"
    catalog = DataCatalog.from_config(
        {
            "report": _entry(f"{root}/report.csv"),
            "plots": _entry(f"{root}/plots", "matplotlib.MatplotlibDataset"),
        },
        save_version=FIRST,
    )
    figure = Figure()
    figure.add_subplot().plot([1, 2])
    with mlflow.start_run() as run:
        catalog.save("report", pd.DataFrame({"a": [1]}))
        catalog.save("plots", {"a.png": figure, "b.png": figure})
    assert list_artifact_files(tracking, run.info.run_id) == {
        "reports/report.csv",
        "reports/plots/a.png",
        "reports/plots/b.png",
    }
    assert catalog.load("report")["a"].tolist() == [1]


def test_without_an_active_run_it_saves_and_logs_nothing(tracking):
    root = f"memory:///bucket-{uuid.uuid4().hex}"
    catalog = DataCatalog.from_config({"quiet": _entry(f"{root}/quiet.csv")}, save_version=FIRST)
    assert mlflow.active_run() is None
    catalog.save("quiet", pd.DataFrame({"a": [1]}))
    written = fsspec.filesystem("memory").find(root.removeprefix("memory://"))
    assert [path.split("/", 2)[-1] for path in written] == [f"quiet.csv/{FIRST}/quiet.csv"]
    assert tracking.search_runs([tracking.get_experiment_by_name("Default").experiment_id]) == []


def test_a_given_run_id_receives_the_artifact_even_inside_another_run(tmp_path, tracking):
    target = tracking.create_run(tracking.get_experiment_by_name("Default").experiment_id)
    config = _entry(str(tmp_path / "report.csv"), run_id=target.info.run_id)
    catalog = DataCatalog.from_config({"report": config}, save_version=FIRST)
    with mlflow.start_run() as other:
        catalog.save("report", pd.DataFrame({"a": [1]}))
    assert list_artifact_files(tracking, target.info.run_id) == {"reports/report.csv"}
    assert list_artifact_files(tracking, other.info.run_id) == set()


def test_versioned_inside_the_wrapped_dataset_is_refused_with_the_fix(tmp_path):
    entry = _entry(str(tmp_path / "report.csv"))
    entry["dataset"]["versioned"] = True
    with pytest.raises(Exception, match="on the outer catalog entry"):
        DataCatalog.from_config({"report": entry}).save("report", pd.DataFrame({"a": [1]}))


# A minimal Kedro project: one node writes a report through the dataset, kedro-mlflow starts
# the run. Two `kedro run`s must keep two versions on disk, each logged to its own run.
MINI_PROJECT = {
    "pyproject.toml": """
        [tool.kedro]
        package_name = "mini"
        project_name = "mini"
        kedro_init_version = "1.7.0"
        source_dir = "src"
    """,
    "src/mini/__init__.py": "",
    "src/mini/settings.py": "",
    "src/mini/pipeline_registry.py": """
        import pandas as pd
        from kedro.pipeline import Node, Pipeline

        def report(value: int) -> pd.DataFrame:
            return pd.DataFrame({"value": [value]})

        def register_pipelines():
            node = Node(report, "params:value", "report", name="report")
            return {"__default__": Pipeline([node])}
    """,
    "conf/base/parameters.yml": "value: 0\n",
    "conf/local/.gitkeep": "",
    "conf/base/mlflow.yml": """
        server:
          mlflow_tracking_uri: sqlite:///mlflow.db
        tracking:
          experiment:
            name: mini
    """,
    "conf/base/catalog.yml": f"""
        report:
          type: {DATASET}
          versioned: true
          artifact_path: reports
          dataset:
            type: pandas.CSVDataset
            filepath: data/report.csv
    """,
}


def test_two_kedro_runs_keep_both_versions_each_logged_to_its_own_run(tmp_path):
    for name, text in MINI_PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip())
    for value in (1, 2):
        subprocess.run(
            [sys.executable, "-m", "kedro", "run", "--params", f"value={value}"],
            cwd=tmp_path,
            env={
                "KEDRO_DISABLE_TELEMETRY": "1",
                "PATH": "/usr/bin:/bin",
                "HOME": str(tmp_path),
                # a copy run with its source's environment finds its package on PYTHONPATH
                "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            },
            check=True,
            capture_output=True,
        )
    versions = sorted((tmp_path / "data" / "report.csv").iterdir())
    assert len(versions) == 2
    values = [pd.read_csv(folder / "report.csv")["value"].item() for folder in versions]
    assert values == [1, 2]

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs(
        [client.get_experiment_by_name("mini").experiment_id], order_by=["start_time ASC"]
    )
    assert len(runs) == 2
    for run, value in zip(runs, values, strict=True):
        assert list_artifact_files(client, run.info.run_id) == {"reports/report.csv"}
        logged = client.download_artifacts(run.info.run_id, "reports/report.csv", str(tmp_path))
        assert pd.read_csv(logged)["value"].item() == value

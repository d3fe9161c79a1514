"""tools/vertex_sim.py (make vertex-sim): the compiled Vertex AI steps, each its own process.

The whole ``__default__`` pipeline runs here on tiny data: its handful of steps (VERTEX_AI_STEPS)
end with the outputs of ``kedro run --env=local`` on the same parameters.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from recommender_gnn.pipeline_registry import VERTEX_AI_STEPS
from recommender_gnn.run_hooks import PatternDatasetsHook
from tests.conftest import BLUEPRINT, TINY_PARAMS, copy_project, run_kedro

SIMULATOR = BLUEPRINT / "tools" / "vertex_sim.py"
# Written by prepare-data, read by fit-baselines (and later steps): a Parquet file in gcp.
HAND_OFF = ("train_sessions", "prepare-data", "fit-baselines")
OUTPUTS = (
    "02_intermediate/train_sessions.parquet",
    "07_model_output/transitions_predictions.parquet",
    "07_model_output/gnn_predictions.parquet",
    "07_model_output/submission.csv",
)


def write_params(project: Path, params: str) -> None:
    """Set ``a.b=value`` pairs in the copy's conf/base: compiling bakes conf's parameters into
    the spec, so the simulation cannot take them from the command line."""
    for pair in params.split(","):
        key, value = pair.split("=", 1)
        path = key.split(".")
        files = sorted((project / "conf" / "base").glob("parameters*.yml"))
        file = next(f for f in files if path[0] in (yaml.safe_load(f.read_text()) or {}))
        content = yaml.safe_load(file.read_text())
        node = content
        for part in path[:-1]:
            node = node[part]
        assert path[-1] in node, f"parameter {key} is not in {file.name}"
        node[path[-1]] = yaml.safe_load(value)
        file.write_text(yaml.safe_dump(content, sort_keys=False))


def vertex_sim(project: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SIMULATOR), "--project", str(project), "--work", str(work), *args],
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.fixture(scope="module")
def local_project(tmp_path_factory) -> Path:
    """A tiny copy with the Dockerfile (the image's files and ENV) and its local run."""
    project = copy_project(tmp_path_factory.mktemp("vertex_sim") / "recommender_gnn")
    for name in ("Dockerfile", "README.md"):
        shutil.copy2(BLUEPRINT / name, project / name)
    write_params(project, TINY_PARAMS)
    run_kedro(project, "run", "--env=local")
    return project


def read(path: Path) -> pd.DataFrame:
    if path.is_dir():  # a versioned dataset: its one version
        (path,) = path.glob(f"*/{path.name}")
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def test_steps_give_the_local_run_outputs(local_project, tmp_path):
    work = tmp_path / "work"
    done = vertex_sim(local_project, work)
    assert done.returncode == 0, done.stderr[-6000:]
    (data_root,) = (work / "gs").glob("*/data")
    for name in OUTPUTS:
        pd.testing.assert_frame_equal(
            read(data_root / name), read(local_project / "data" / name), obj=name
        )
    # Every step resumed the one MLflow run that mlflow-start-run opened; the GNN was registered.
    client = mlflow.MlflowClient(f"sqlite:///{work / 'mlflow.db'}")
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert run.data.tags["vertexai_job_name"].startswith(local_project.name.replace("_", "-"))
    assert client.search_registered_models()
    logs = {path.stem for path in (work / "logs").glob("*.log")}
    separate = {"hm-sequences", "banking-data", "banking-models"}  # not in the default run
    assert logs == set(VERTEX_AI_STEPS) - separate | {"mlflow-start-run"}


def test_default_pipeline_holds_nothing_in_memory_across_steps(tmp_path):
    done = vertex_sim(BLUEPRINT, tmp_path / "work", "--check-only")
    assert done.returncode == 0, done.stderr[-6000:]
    assert "no dataset crosses two of them in memory" in done.stdout


@pytest.fixture
def memory_hand_off(local_project, tmp_path) -> Path:
    """A copy whose gcp catalog declares the hand-off as a MemoryDataset."""
    project = tmp_path / "recommender_gnn"
    shutil.copytree(local_project, project, ignore=shutil.ignore_patterns("data", "mlruns"))
    (project / "conf" / "gcp" / "catalog_in_memory.yml").write_text(
        f"{HAND_OFF[0]}:\n  type: MemoryDataset\n"
    )
    return project


def test_memory_dataset_across_steps_stops_before_any_step(memory_hand_off, tmp_path):
    work = tmp_path / "work"
    done = vertex_sim(memory_hand_off, work)
    assert done.returncode == 1
    dataset, writer, reader = HAND_OFF
    assert f"dataset '{dataset}' is written by step '{writer}' and read by step '{reader}'" in (
        done.stderr
    )
    assert not (work / "logs").exists()  # no step was started


def test_pattern_datasets_are_written_by_the_vertex_ai_runner(tmp_path, monkeypatch):
    """kedro-vertexai's runner pickles every dataset the catalog has not created yet, and Kedro
    creates a pattern's datasets only when first used: the hook creates them before the run."""
    from kedro.io import DataCatalog
    from kedro.pipeline import Node, Pipeline
    from kedro_vertexai.vertex_ai.runner import VertexAIPipelinesRunner

    def new_catalog():
        pattern = {"type": "pandas.CSVDataset", "filepath": str(tmp_path / "{name}.csv")}
        return DataCatalog.from_config({"{name}_table": pattern})

    pipeline = Pipeline([Node(lambda: pd.DataFrame({"a": [1]}), None, "out_table", name="write")])
    assert "out_table" not in new_catalog().filter()  # what the runner would pickle
    catalog = new_catalog()
    PatternDatasetsHook().before_pipeline_run(pipeline=pipeline, catalog=catalog)
    monkeypatch.setenv("KEDRO_VERTEXAI_RUNNER_CONFIG", '{"storage_root": "bucket/root"}')
    VertexAIPipelinesRunner().run(pipeline, catalog)
    assert pd.read_csv(tmp_path / "out.csv")["a"].tolist() == [1]

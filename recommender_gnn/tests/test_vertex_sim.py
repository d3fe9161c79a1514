"""tools/vertex_sim.py (make vertex-sim): the compiled Vertex AI steps, each its own process.

The whole ``__default__`` pipeline runs here on tiny data: its handful of steps (VERTEX_AI_STEPS)
end with the outputs of ``kedro run --env=local`` on the same parameters.
"""

import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from recommender_gnn.pipeline_registry import VERTEX_AI_STEPS
from recommender_gnn.run_hooks import PatternDatasetsHook
from tests.conftest import TINY_PARAMS
from tests.kedro_cli import BLUEPRINT, copy_project, run_kedro
from tests.vertex_sim_helpers import read, vertex_sim, write_params

# Written by prepare-data, read by fit-baselines (and later steps): a Parquet file in gcp.
HAND_OFF = ("train_sessions", "prepare-data", "fit-baselines")
OUTPUTS = (
    "02_intermediate/train_sessions.parquet",
    "07_model_output/transitions_predictions.parquet",
    "07_model_output/gnn_predictions.parquet",
    "07_model_output/submission.csv",
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

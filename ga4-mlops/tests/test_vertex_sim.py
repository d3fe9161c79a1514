"""tools/vertex_sim.py (make vertex-sim): the compiled Vertex AI steps, each its own process.

The whole ``__default__`` pipeline runs here on tiny data: its steps (VERTEX_AI_STEPS) end with
the outputs of ``kedro run --env=local`` on the same parameters. What is the blueprint's own (the
dataset handed from one step to the next, the outputs compared) is in tests/vertex_sim_cases.py.
"""

import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from ga4_mlops.pipeline_registry import VERTEX_AI_STEPS
from ga4_mlops.run_hooks import PatternDatasetsHook
from tests import vertex_sim_cases as cases
from tests.conftest import TINY_PARAMS
from tests.kedro_cli import BLUEPRINT, copy_project, run_kedro
from tests.vertex_sim_helpers import read, vertex_sim, write_params


@pytest.fixture(scope="module")
def local_project(tmp_path_factory) -> Path:
    """A tiny copy with the Dockerfile (the image's files and ENV) and its local run."""
    project = copy_project(tmp_path_factory.mktemp("vertex_sim") / "ga4-mlops")
    for name in ("Dockerfile", "README.md"):
        shutil.copy2(BLUEPRINT / name, project / name)
    write_params(project, TINY_PARAMS)
    cases.prepare(project)
    run_kedro(project, "run", "--env=local")
    return project


def test_steps_give_the_local_run_outputs(local_project, tmp_path):
    work = tmp_path / "work"
    done = vertex_sim(local_project, work)
    assert done.returncode == 0, done.stderr[-6000:]
    (data_root,) = (work / "gs").glob("*/data")
    for name in cases.OUTPUTS:
        pd.testing.assert_frame_equal(
            read(data_root / name), read(local_project / "data" / name), obj=name
        )
    cases.check_outputs(data_root, local_project / "data")
    # Every step resumed the one MLflow run that mlflow-start-run opened; the model was
    # registered.
    client = mlflow.MlflowClient(f"sqlite:///{work / 'mlflow.db'}")
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert run.data.tags["vertexai_job_name"].startswith(local_project.name.replace("_", "-"))
    assert client.search_registered_models()
    logs = {path.stem for path in (work / "logs").glob("*.log")}
    assert logs == set(VERTEX_AI_STEPS) - cases.STEPS_OUTSIDE_DEFAULT | {"mlflow-start-run"}


def test_default_pipeline_holds_nothing_in_memory_across_steps(tmp_path):
    done = vertex_sim(BLUEPRINT, tmp_path / "work", "--check-only")
    assert done.returncode == 0, done.stderr[-6000:]
    assert "no dataset crosses two of them in memory" in done.stdout


@pytest.fixture
def memory_hand_off(local_project, tmp_path) -> Path:
    """A copy whose gcp catalog declares the hand-off as a MemoryDataset."""
    project = tmp_path / "ga4-mlops"
    shutil.copytree(local_project, project, ignore=shutil.ignore_patterns("data", "mlruns"))
    (project / "conf" / "gcp" / "catalog_in_memory.yml").write_text(
        f"{cases.HAND_OFF[0]}:\n  type: MemoryDataset\n"
    )
    return project


def test_memory_dataset_across_steps_stops_before_any_step(memory_hand_off, tmp_path):
    work = tmp_path / "work"
    done = vertex_sim(memory_hand_off, work)
    assert done.returncode == 1
    dataset, writer, reader = cases.HAND_OFF
    assert f"dataset '{dataset}' is written by step '{writer}' and read by step '{reader}'" in (
        done.stderr
    )
    assert not (work / "logs").exists()  # no step was started


def test_memory_dataset_across_steps_fails_on_its_own(memory_hand_off, local_project, tmp_path):
    """Without the check, the reading step fails the way it would on Vertex AI (its pipeline
    alone, what earlier steps wrote already in the bucket)."""
    work = tmp_path / "work"
    done = vertex_sim(
        memory_hand_off, work, "--pipeline", cases.READER_PIPELINE,
        "--bucket-data", str(local_project / "data"), "--skip-memory-check",
    )  # fmt: skip
    assert done.returncode == 1
    reader = cases.HAND_OFF[2]
    assert f"step '{reader}' failed" in done.stderr
    assert "has not been saved yet" in (work / "logs" / f"{reader}.log").read_text()


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

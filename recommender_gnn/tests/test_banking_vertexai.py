"""`kedro vertexai -e gcp compile --pipeline banking` offline: the banking run's two steps, each
running its folder's nodes, nothing handed from one to the other in memory; and the steps run
one process each (make vertex-sim) give the local run's outputs."""

import shutil

import mlflow
import pandas as pd
from kedro.framework.project import pipelines

from tests.kedro_cli import BLUEPRINT, compile_vertex_spec, copy_project, run_kedro
from tests.test_vertexai_compile import step_nodes
from tests.vertex_sim_helpers import read, vertex_sim, write_params

BANKING_STEPS = {"banking-data": "banking_data", "banking-models": "banking_models"}


def test_compile_banking_gives_its_two_steps(tmp_path, monkeypatch):
    spec = compile_vertex_spec(tmp_path, monkeypatch, "--pipeline", "banking")
    assert set(spec["root"]["dag"]["tasks"]) == set(BANKING_STEPS) | {"mlflow-start-run"}
    executors = spec["deploymentSpec"]["executors"]
    nodes_of = {
        name[len("exec-") :]: step_nodes(e) for name, e in executors.items() if "--nodes" in str(e)
    }
    # The registry nodes run in banking-models, next to the model and candidates they read.
    assert nodes_of == {
        step: {node.name for node in pipelines[folder].nodes}
        for step, folder in BANKING_STEPS.items()
    }
    registry_nodes = {"package_banking_model", "decide_banking_promotion"}
    assert {f"banking_models.{node}" for node in registry_nodes} <= nodes_of["banking-models"]
    tasks = spec["root"]["dag"]["tasks"]
    assert "banking-data" in tasks["banking-models"]["dependentTasks"]
    resources = executors["exec-banking-models"]["container"]["resources"]
    assert not resources.get("accelerator")


def test_banking_holds_nothing_in_memory_across_steps(tmp_path):
    done = vertex_sim(BLUEPRINT, tmp_path / "work", "--pipeline", "banking", "--check-only")
    assert done.returncode == 0, done.stderr[-6000:]
    assert "3 steps; no dataset crosses two of them in memory" in done.stdout


SMALL_BANKING = (
    "banking_data.generator.n_customers=3000,model_selection.tuning.n_trials=2,"
    "model_selection.bootstrap.resamples=200,banking_models.lightgbm.num_boost_round=100,"
    "banking_models.gnn.max_epochs=6"
)


def test_banking_steps_give_the_local_run_outputs(tmp_path):
    """make vertex-sim VERTEX_PIPELINE=banking: each step its own process, the same report and
    submission as ``kedro run --env=local --pipelines=banking``, a version registered."""
    project = copy_project(tmp_path / "recommender_gnn")
    for name in ("Dockerfile", "README.md"):
        shutil.copy2(BLUEPRINT / name, project / name)
    write_params(project, SMALL_BANKING)
    run_kedro(project, "run", "--env=local", "--pipelines=banking")
    work = tmp_path / "work"
    done = vertex_sim(project, work, "--pipeline", "banking")
    assert done.returncode == 0, done.stderr[-6000:]
    assert {path.stem for path in (work / "logs").glob("*.log")} == set(BANKING_STEPS) | {
        "mlflow-start-run"
    }
    (data_root,) = (work / "gs").glob("*/data")
    for name in ("08_reporting/banking_model_scores.csv", "07_model_output/banking_submission.csv"):
        pd.testing.assert_frame_equal(
            read(data_root / name), read(project / "data" / name), obj=name
        )
    client = mlflow.MlflowClient(f"sqlite:///{work / 'mlflow.db'}")
    assert client.get_registered_model("recommender_gnn_banking").latest_versions

"""`kedro vertexai -e gcp compile --pipeline banking` offline: the banking run's two steps, each
running its folder's nodes, nothing handed from one to the other in memory."""

from kedro.framework.project import pipelines

from tests.conftest import BLUEPRINT, compile_vertex_spec
from tests.test_vertex_sim import vertex_sim
from tests.test_vertexai_compile import step_nodes

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
    assert {"package_banking_model", "decide_banking_promotion"} <= nodes_of["banking-models"]
    tasks = spec["root"]["dag"]["tasks"]
    assert "banking-data" in tasks["banking-models"]["dependentTasks"]
    resources = executors["exec-banking-models"]["container"]["resources"]
    assert not resources.get("accelerator")


def test_banking_holds_nothing_in_memory_across_steps(tmp_path):
    done = vertex_sim(BLUEPRINT, tmp_path / "work", "--pipeline", "banking", "--check-only")
    assert done.returncode == 0, done.stderr[-6000:]
    assert "3 steps; no dataset crosses two of them in memory" in done.stdout

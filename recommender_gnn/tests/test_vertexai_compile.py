"""`kedro vertexai -e gcp compile` builds a Vertex AI pipeline spec offline: one step per node,
the GNN training step on a GPU, every other step on CPU."""

import json
import os
from pathlib import Path

import google.cloud.aiplatform
import pytest
import yaml
from click.testing import CliRunner
from kedro.framework.cli.cli import KedroCLI
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project

from tests.conftest import BLUEPRINT

IMAGE = "europe-west4-docker.pkg.dev/blueprint-test-project/ml/recommender-gnn:test"


def test_compile_gives_one_vertex_step_per_node_and_a_gpu_for_training(tmp_path, monkeypatch):
    # The only call that needs Google credentials and network (experiment set-up).
    monkeypatch.setattr(google.cloud.aiplatform, "init", lambda *args, **kwargs: None)
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv("GCP_REGION", "europe-west4")
    monkeypatch.setenv("RECOMMENDER_GNN_IMAGE", IMAGE)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    # The gcp environment requires it (tests/test_gcp_environment.py). kedro-mlflow connects to
    # it when the context loads: a server URL would be retried for minutes offline.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(BLUEPRINT)
    bootstrap_project(BLUEPRINT)
    spec_path = Path(os.environ.get("VERTEXAI_PIPELINE_SPEC") or tmp_path / "pipeline.yaml")
    spec_path.parent.mkdir(parents=True, exist_ok=True)

    result = CliRunner().invoke(
        KedroCLI(BLUEPRINT),
        ["vertexai", "-e", "gcp", "compile", "--pipeline", "end_to_end", "-o", str(spec_path)],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    spec = (
        yaml.safe_load(spec_path.read_text())
        if spec_path.suffix == ".yaml"
        else json.loads(spec_path.read_text())
    )
    tasks = spec["root"]["dag"]["tasks"]
    node_steps = {name for name in tasks if name != "mlflow-start-run"}
    expected = {node.name.replace("_", "-") for node in pipelines["end_to_end"].nodes}
    assert node_steps == expected
    executors = spec["deploymentSpec"]["executors"]
    commands = " ".join(" ".join(e["container"]["args"]) for e in executors.values())
    assert "kedro run -e gcp" in commands
    assert all(e["container"]["image"] == IMAGE for e in executors.values())
    accelerated = {
        name
        for name, executor in executors.items()
        if executor["container"].get("resources", {}).get("accelerator")
    }
    training = [node for node in pipelines["end_to_end"].nodes if "gnn_training" in node.tags]
    assert accelerated == {f"exec-{node.name.replace('_', '-')}" for node in training} != set()
    accelerator = executors[accelerated.pop()]["container"]["resources"]["accelerator"]
    assert accelerator["type"] == "NVIDIA_TESLA_T4"
    assert int(accelerator["count"]) == 1
    # Reading the real train.jsonl needs the big memory step; other steps keep the default.
    memory = {
        name: executor["container"].get("resources", {}).get("memoryLimit")
        for name, executor in executors.items()
    }
    assert memory["exec-clean-train-events"] == pytest.approx(32 * 1024**3 / 1e9)
    assert memory["exec-popular-items"] == pytest.approx(8 * 1024**3 / 1e9)

"""`kedro vertexai -e gcp compile` builds a Vertex AI pipeline spec offline: one step per node,
the GNN's training and scoring steps on a GPU, every other step on CPU."""

import os
from pathlib import Path

import pytest
from kedro.framework.project import pipelines

from tests.conftest import VERTEX_IMAGE, compile_vertex_spec


def test_compile_gives_one_vertex_step_per_node_and_a_gpu_for_the_gnn(tmp_path, monkeypatch):
    # CI keeps the compiled spec as an artifact when it names a path.
    spec_path = Path(os.environ.get("VERTEXAI_PIPELINE_SPEC") or tmp_path / "pipeline.yaml")
    spec = compile_vertex_spec(
        tmp_path, monkeypatch, "--pipeline", "end_to_end", spec_path=spec_path
    )
    tasks = spec["root"]["dag"]["tasks"]
    node_steps = {name for name in tasks if name != "mlflow-start-run"}
    expected = {node.name.replace("_", "-") for node in pipelines["end_to_end"].nodes}
    assert node_steps == expected
    executors = spec["deploymentSpec"]["executors"]
    commands = " ".join(" ".join(e["container"]["args"]) for e in executors.values())
    assert "kedro run -e gcp" in commands
    assert all(e["container"]["image"] == VERTEX_IMAGE for e in executors.values())
    accelerated = {
        name
        for name, executor in executors.items()
        if executor["container"].get("resources", {}).get("accelerator")
    }
    gpu_nodes = [
        node
        for node in pipelines["end_to_end"].nodes
        if {"gnn_training", "gnn_scoring"} & set(node.tags)
    ]
    assert accelerated == {f"exec-{node.name.replace('_', '-')}" for node in gpu_nodes}
    assert {"exec-tune-gnn", "exec-refit-gnn", "exec-recommend-gnn-test"} <= accelerated
    accelerator = executors[accelerated.pop()]["container"]["resources"]["accelerator"]
    assert accelerator["type"] == "NVIDIA_TESLA_T4"
    assert int(accelerator["count"]) == 1
    # Reading the real train.jsonl needs the big memory step; other steps keep the default.
    memory = {
        name: executor["container"].get("resources", {}).get("memoryLimit")
        for name, executor in executors.items()
    }
    assert memory["exec-clean-train-events"] == pytest.approx(32 * 1024**3 / 1e9)
    assert memory["exec-split-validation"] == pytest.approx(32 * 1024**3 / 1e9)
    assert memory["exec-fit-sknn-refit"] == pytest.approx(16 * 1024**3 / 1e9)
    assert memory["exec-fit-popularity-train"] == pytest.approx(8 * 1024**3 / 1e9)

"""`kedro vertexai -e gcp compile` builds a Vertex AI pipeline spec offline, one step per node."""

import os
from pathlib import Path

import pytest
from kedro.framework.project import pipelines

from tests.conftest import compile_vertex_spec


def test_compile_gives_one_vertex_step_per_node(tmp_path, monkeypatch):
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
    assert all(e["container"]["image"].endswith("ga4-mlops:test") for e in executors.values())
    tuning = executors[f"exec-{'tune-hyperparameters'}"]["container"]["resources"]
    assert tuning["memoryLimit"] == pytest.approx(16 * 1024**3 / 1e9)  # 16Gi, in GB

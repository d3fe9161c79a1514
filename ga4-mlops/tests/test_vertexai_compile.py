"""`kedro vertexai -e gcp compile` builds a Vertex AI pipeline spec offline, one step per node."""

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


def test_compile_gives_one_vertex_step_per_node(tmp_path, monkeypatch):
    # The only call that needs Google credentials and network (experiment set-up).
    monkeypatch.setattr(google.cloud.aiplatform, "init", lambda *args, **kwargs: None)
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv("GCP_REGION", "europe-west4")
    monkeypatch.setenv(
        "GA4_MLOPS_IMAGE", "europe-west4-docker.pkg.dev/blueprint-test-project/ml/ga4-mlops:test"
    )
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    # The gcp environment requires it (tests/test_gcp_environment.py). kedro-mlflow opens the
    # store while compiling, so a server address would need network: a sqlite file stands in.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(BLUEPRINT)
    bootstrap_project(BLUEPRINT)
    # CI keeps the compiled spec as an artifact when it names a path.
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
    assert all(e["container"]["image"].endswith("ga4-mlops:test") for e in executors.values())
    tuning = executors[f"exec-{'tune-hyperparameters'}"]["container"]["resources"]
    assert tuning["memoryLimit"] == pytest.approx(16 * 1024**3 / 1e9)  # 16Gi, in GB

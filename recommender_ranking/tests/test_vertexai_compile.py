"""`kedro vertexai -e gcp compile` builds a Vertex AI pipeline spec offline, one step per node,
with a GPU for the autoencoder and more memory for the feature nodes; the gcp environment
refuses to start without MLFLOW_TRACKING_URI."""

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

from tests.conftest import BLUEPRINT, copy_project, run_kedro


def test_compile_gives_one_vertex_step_per_node(tmp_path, monkeypatch):
    # The only call that needs Google credentials and network (experiment set-up).
    monkeypatch.setattr(google.cloud.aiplatform, "init", lambda *args, **kwargs: None)
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv("GCP_REGION", "europe-west4")
    # Set, as the gcp environment requires; a local file so that nothing reaches for a server.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv(
        "RECOMMENDER_RANKING_IMAGE",
        "europe-west4-docker.pkg.dev/blueprint-test-project/ml/recommender-ranking:test",
    )
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
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
    assert all(
        e["container"]["image"].endswith("recommender-ranking:test") for e in executors.values()
    )
    autoencoder = executors["exec-train-image-autoencoder"]["container"]["resources"]
    assert autoencoder["accelerator"]["count"] == "1"
    assert autoencoder["accelerator"]["type"] == "NVIDIA_TESLA_T4"
    for step in ("validate-raw-inputs", "join-sql-features", "build-model-input"):
        resources = executors[f"exec-{step}"]["container"]["resources"]
        assert resources["memoryLimit"] == pytest.approx(32 * 1024**3 / 1e9), step  # 32Gi
    default = executors["exec-embed-texts"]["container"]["resources"]
    assert "accelerator" not in default
    assert default["memoryLimit"] == pytest.approx(8 * 1024**3 / 1e9)


def test_gcp_run_without_mlflow_tracking_uri_stops_and_says_what_to_set(tmp_path, monkeypatch):
    project = copy_project(tmp_path / "recommender_ranking")
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    # run_kedro removes MLFLOW_TRACKING_URI from the environment it passes on.
    failed = run_kedro(project, "run", "-e", "gcp", "--pipeline=eda", check=False)
    assert failed.returncode != 0
    message = " ".join(failed.stderr.split())  # rich wraps long lines
    assert "MLFLOW_TRACKING_URI is not set" in message
    assert "--env=local" in message
    assert not (project / "mlruns").exists()
    assert not (project / "mlflow.db").exists()

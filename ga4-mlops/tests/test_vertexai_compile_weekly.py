"""The weekly pipeline (inference + performance_monitoring) compiles for Vertex AI with the
as-of date as a run-time parameter of the spec."""

import google.cloud.aiplatform
import yaml
from click.testing import CliRunner
from kedro.framework.cli.cli import KedroCLI
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project

from tests.conftest import BLUEPRINT

# What docs/vertex-ai.md tells users to compile: an optional string, `latest` by default.
RUNTIME_PARAMETER = "as_of_date:str='latest'"


def test_weekly_compiles_with_the_as_of_date_as_a_run_time_parameter(tmp_path, monkeypatch):
    monkeypatch.setattr(google.cloud.aiplatform, "init", lambda *args, **kwargs: None)
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv("GCP_REGION", "europe-west4")
    monkeypatch.setenv("GA4_MLOPS_IMAGE", "europe-west4-docker.pkg.dev/p/ml/ga4-mlops:test")
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(BLUEPRINT)
    bootstrap_project(BLUEPRINT)
    spec_path = tmp_path / "weekly.yaml"

    result = CliRunner().invoke(
        KedroCLI(BLUEPRINT),
        [
            "vertexai",
            "-e",
            "gcp",
            "compile",
            "--pipeline",
            "weekly",
            "--params",
            RUNTIME_PARAMETER,
            "-o",
            str(spec_path),
        ],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    spec = yaml.safe_load(spec_path.read_text())
    parameter = spec["root"]["inputDefinitions"]["parameters"]["as_of_date"]
    assert parameter["parameterType"] == "STRING"
    assert parameter["defaultValue"] == "latest"
    tasks = spec["root"]["dag"]["tasks"]
    expected = {node.name.replace("_", "-") for node in pipelines["weekly"].nodes}
    assert {name for name in tasks if name != "mlflow-start-run"} == expected
    for name in expected:
        # Every step receives the pipeline's value and hands it to kedro as --params.
        assert tasks[name]["inputs"]["parameters"]["as_of_date"] == {
            "componentInputParameter": "as_of_date"
        }
        args = " ".join(spec["deploymentSpec"]["executors"][f"exec-{name}"]["container"]["args"])
        assert "--pipeline weekly" in args
        assert "--params as_of_date={{$.inputs.parameters['as_of_date']}}" in args

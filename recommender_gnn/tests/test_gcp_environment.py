"""The gcp environment finds its project and MLflow server at run time, so the image carries
neither; without a tracking URI it stops and says what to set (a container's local store would
vanish with the run). What the gcp catalog reads is the blueprint's own (test_gcp_catalog.py
where it has one)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from recommender_gnn.gcp_resolvers import PROJECT_VARIABLES, deployment_setting, gcp_project
from tests.conftest import GCP_TEST_PIPELINE
from tests.kedro_cli import BLUEPRINT, compile_vertex_spec, copy_project, run_kedro

SETTING = "SOME_URI"
# The variable that points the gcp environment at another deployment settings file.
SETTINGS_VARIABLE = "recommender_gnn".upper() + "_SETTINGS"


@pytest.fixture
def no_project(monkeypatch, tmp_path):
    """No project variable, and Application Default Credentials that fail at once."""
    for name in PROJECT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-key.json"))


def test_gcp_project_takes_the_first_variable_set(no_project, monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "gcloud-project")
    assert gcp_project() == "gcloud-project"
    monkeypatch.setenv("CLOUD_ML_PROJECT_ID", "vertex-job-project")
    assert gcp_project() == "vertex-job-project"
    monkeypatch.setenv("GCP_PROJECT_ID", "  ")  # empty counts as unset
    assert gcp_project() == "vertex-job-project"
    monkeypatch.setenv("GCP_PROJECT_ID", "laptop-project")
    assert gcp_project() == "laptop-project"


def test_gcp_project_falls_back_to_the_credentials_project(no_project, monkeypatch, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key_file = tmp_path / "service-account.json"
    key_file.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "service-account-project",
                "private_key_id": "1",
                "private_key": pem,
                "client_email": "pipeline@service-account-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    assert gcp_project() == "service-account-project"


def test_gcp_project_without_any_source_says_what_to_set(no_project):
    expected = r"No Google Cloud project.*Export GCP_PROJECT_ID="
    with pytest.raises(ValueError, match=expected) as error:
        gcp_project()
    assert "no-key.json" in str(error.value)  # why the credentials named none


def test_deployment_setting_prefers_the_environment_then_the_file(monkeypatch, tmp_path):
    settings = tmp_path / "deployment.yml"
    settings.write_text(f"{SETTING}: https://from-the-file.example.com\n")
    monkeypatch.delenv(SETTING, raising=False)
    assert deployment_setting(SETTING, str(settings)) == "https://from-the-file.example.com"
    monkeypatch.setenv(SETTING, "https://from-the-environment.example.com")
    assert deployment_setting(SETTING, str(settings)) == "https://from-the-environment.example.com"


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "FileNotFoundError"), ("OTHER: x\n", f"it has no {SETTING}"), ("- a\n", "mapping")],
)
def test_deployment_setting_missing_names_both_ways(monkeypatch, tmp_path, content, problem):
    settings = tmp_path / f"deployment-{problem.split()[0]}.yml"
    if content is not None:
        settings.write_text(content)
    monkeypatch.setenv(SETTING, "  ")  # empty counts as unset
    with pytest.raises(ValueError) as error:
        deployment_setting(SETTING, str(settings), "the server")
    message = str(error.value)
    assert f"Deployment setting {SETTING} is not set" in message
    assert problem in message
    assert "Set it to the server" in message
    assert f"export {SETTING}=..., or write '{SETTING}: <value>' to {settings}" in message


def test_the_image_takes_no_project_settings_at_build_time():
    dockerfile = (BLUEPRINT / "Dockerfile").read_text()
    for name in ("GCP_PROJECT_ID", "MLFLOW_TRACKING_URI", "GCP_REGION"):
        assert f"ARG {name}" not in dockerfile
        assert f"{name}=" not in dockerfile


def test_conf_gcp_reads_the_project_only_through_gcp_project():
    for path in (BLUEPRINT / "conf").rglob("*.yml"):
        assert "oc.env:GCP_PROJECT_ID" not in path.read_text(), path


def test_kedro_run_in_gcp_without_mlflow_tracking_uri_stops_and_says_what_to_set(
    tmp_path, monkeypatch
):
    project = copy_project(tmp_path / BLUEPRINT.name)
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv(SETTINGS_VARIABLE, str(tmp_path / "missing-deployment.yml"))
    # run_kedro removes MLFLOW_TRACKING_URI from the environment it passes on.
    failed = run_kedro(project, "run", "-e", "gcp", f"--pipelines={GCP_TEST_PIPELINE}", check=False)
    assert failed.returncode != 0
    message = " ".join(failed.stderr.split())  # rich wraps long lines
    assert "Deployment setting MLFLOW_TRACKING_URI is not set" in message
    assert "Set it to your MLflow tracking server, e.g. https://mlflow.example.com" in message
    assert "missing-deployment.yml" in "".join(message.split())  # a path breaks anywhere
    assert not (project / "mlruns").exists()
    assert not (project / "mlflow.db").exists()


def _run_step(command: str, project: Path, environment: dict) -> subprocess.CompletedProcess:
    """A compiled step's command as Vertex AI runs it: ``bash -c`` in the project folder."""
    return subprocess.run(
        ["/bin/bash", "-c", command],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_compiled_mlflow_step_runs_with_only_what_vertex_ai_provides(tmp_path, monkeypatch):
    """The compiled ``mlflow-start-run`` step (kedro-vertexai's ``initialize-job`` then
    ``mlflow-start``, which get no environment from the plugin) run as Vertex AI would: no
    GCP_PROJECT_ID or MLFLOW_TRACKING_URI, only the job's project variable and a deployment
    settings file. It starts a run on the server that file names."""
    spec = compile_vertex_spec(tmp_path, monkeypatch, "--pipeline", GCP_TEST_PIPELINE)
    command = spec["deploymentSpec"]["executors"]["exec-mlflow-start-run"]["container"]["args"]
    run_id_file = tmp_path / "outputs" / "mlflow_run_id"
    command = command[0].replace(
        "{{$.outputs.parameters['mlflow_run_id'].output_file}}", str(run_id_file)
    )
    # The plugin passes GCP_PROJECT_ID to node steps' `kedro run` only, never to this step.
    assert "GCP_PROJECT_ID" not in command and "MLFLOW_TRACKING_URI" not in command
    project = copy_project(tmp_path / "step" / BLUEPRINT.name)
    tracking_uri = f"sqlite:///{tmp_path / 'server.db'}"
    settings = tmp_path / "deployment.yml"
    settings.write_text(f"MLFLOW_TRACKING_URI: {tracking_uri}\n")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in (*PROJECT_VARIABLES, "MLFLOW_TRACKING_URI", "GCP_REGION")
    }
    environment.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}",
        CLOUD_ML_PROJECT_ID="vertex-job-project",
        **{SETTINGS_VARIABLE: str(settings)},
        KEDRO_DISABLE_TELEMETRY="1",
    )
    step = _run_step(command, project, environment)
    assert step.returncode == 0, step.stderr[-4000:]
    run_id = run_id_file.read_text().strip()
    client = mlflow.tracking.MlflowClient(tracking_uri)
    run = client.get_run(run_id)  # raises when the run is not on that server
    assert client.get_experiment(run.info.experiment_id).name == "recommender_gnn"
    assert run.data.tags["vertexai_run_id"].startswith(BLUEPRINT.name.replace("_", "-") + "-")
    assert not (project / "mlflow.db").exists()  # nothing went to a local store

    environment[SETTINGS_VARIABLE] = str(tmp_path / "deployment-without-uri.yml")
    failed = _run_step(command, project, environment)
    assert failed.returncode != 0
    assert "Deployment setting MLFLOW_TRACKING_URI is not set" in " ".join(failed.stderr.split())

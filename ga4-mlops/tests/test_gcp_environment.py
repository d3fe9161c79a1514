"""The gcp environment refuses to start without a remote MLflow tracking URI: in a container a
local store would vanish with the run, so the cloud run must say what to set instead."""

import pytest

from ga4_mlops.config_resolvers import required_env
from tests.conftest import copy_project, run_kedro


@pytest.mark.parametrize("value", [None, "", "  "])
def test_required_env_names_the_variable_when_unset_or_empty(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("SOME_URI", raising=False)
    else:
        monkeypatch.setenv("SOME_URI", value)
    with pytest.raises(ValueError, match=r"SOME_URI is not set\. Set it to the server"):
        required_env("SOME_URI", "the server")


def test_required_env_returns_the_value(monkeypatch):
    monkeypatch.setenv("SOME_URI", "https://mlflow.example.com")
    assert required_env("SOME_URI") == "https://mlflow.example.com"


def test_kedro_run_in_gcp_without_mlflow_tracking_uri_stops_and_says_what_to_set(
    tmp_path, monkeypatch
):
    project = copy_project(tmp_path / "ga4-mlops")
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    # run_kedro removes MLFLOW_TRACKING_URI from the environment it passes on.
    failed = run_kedro(project, "run", "-e", "gcp", "--pipeline=scoring", check=False)
    assert failed.returncode != 0
    message = " ".join(failed.stderr.split())  # rich wraps long lines
    assert "Environment variable MLFLOW_TRACKING_URI is not set. Set it to your MLflow" in message
    assert "tracking server, e.g. https://mlflow.example.com" in message
    assert not (project / "mlruns").exists()
    assert not (project / "mlflow.db").exists()

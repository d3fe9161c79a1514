"""The gcp environment refuses to start without a remote MLflow tracking URI: in a container a
local store would vanish with the run, so the cloud run must say what to set instead."""

import pytest

from recommender_gnn.config_resolvers import bq_query_parameters, required_env
from tests.conftest import copy_project, run_kedro


@pytest.mark.parametrize("value", [None, "", "  "])
def test_required_env_names_the_variable_when_unset_or_empty(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("SOME_URI", raising=False)
    else:
        monkeypatch.setenv("SOME_URI", value)
    with pytest.raises(ValueError, match=r"SOME_URI is not set\. Set it to the server"):
        required_env("SOME_URI", "the server")


def test_kedro_run_in_gcp_without_mlflow_tracking_uri_stops_and_says_what_to_set(
    tmp_path, monkeypatch
):
    project = copy_project(tmp_path / "recommender_gnn")
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    # run_kedro removes MLFLOW_TRACKING_URI from the environment it passes on.
    failed = run_kedro(project, "run", "-e", "gcp", "--pipeline=submission", check=False)
    assert failed.returncode != 0
    message = " ".join(failed.stderr.split())
    assert "Environment variable MLFLOW_TRACKING_URI is not set. Set it to your MLflow" in message
    assert not (project / "mlruns").exists()
    assert not (project / "mlflow.db").exists()


def test_the_covisitation_query_parameters_get_bigquery_types():
    parameters = bq_query_parameters({"top_k": 40, "cart_weight": 6.0})
    assert parameters == [
        {"name": "top_k", "parameterType": {"type": "INT64"}, "parameterValue": {"value": "40"}},
        {
            "name": "cart_weight",
            "parameterType": {"type": "FLOAT64"},
            "parameterValue": {"value": "6.0"},
        },
    ]

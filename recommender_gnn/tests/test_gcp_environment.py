"""The gcp environment refuses to start without a remote MLflow tracking URI: in a container a
local store would vanish with the run, so the cloud run must say what to set instead."""

import pytest
from kedro.config import OmegaConfigLoader

from recommender_gnn.config_resolvers import bq_query_parameters, required_env
from recommender_gnn.settings import CONFIG_LOADER_ARGS
from tests.conftest import BLUEPRINT, copy_project, run_kedro


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


def test_gcp_catalog_reads_gs_and_runs_the_sql_on_bigquery(monkeypatch):
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example.com")
    loader = OmegaConfigLoader(
        str(BLUEPRINT / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": "gcp"}, env="gcp"
    )
    catalog = loader["catalog"]
    bucket = "gs://blueprint-test-project-recommender-gnn/data"
    assert catalog["otto_train"]["filepath"] == f"{bucket}/01_raw/train.jsonl"
    assert (
        catalog["train_sessions"]["filepath"] == f"{bucket}/02_intermediate/train_sessions.parquet"
    )
    query = catalog["covisitation_counts"]
    assert query["type"] == "pandas.GBQQueryDataset"
    assert query["filepath"] == "src/recommender_gnn/sql/covisitation_counts.sql"
    configuration = query["load_args"]["configuration"]["query"]
    assert configuration["defaultDataset"] == {
        "projectId": "blueprint-test-project",
        "datasetId": "recommender_gnn",
    }
    names = {parameter["name"] for parameter in configuration["queryParameters"]}
    assert names == set(loader["globals"]["covisitation_query"])

"""The gcp catalog resolves with only the project variable Vertex AI sets, and week 0 on
BigQuery reads the chunk files the pipeline wrote to the bucket (what the gcp environment finds
at run time: test_gcp_environment.py, a kit copy)."""

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io.core import AbstractDataset

from recommender_ranking.gcp_resolvers import PROJECT_VARIABLES
from recommender_ranking.settings import CONFIG_LOADER_ARGS
from tests.kedro_cli import BLUEPRINT


@pytest.fixture
def no_project(monkeypatch, tmp_path):
    """No project variable, and Application Default Credentials that fail at once."""
    for name in PROJECT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-key.json"))


def test_conf_gcp_resolves_with_only_the_vertex_ai_project_variable(no_project, monkeypatch):
    monkeypatch.setenv("CLOUD_ML_PROJECT_ID", "vertex-job-project")
    monkeypatch.delenv("RECOMMENDER_RANKING_SETTINGS", raising=False)
    loader = OmegaConfigLoader(
        str(BLUEPRINT / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": "gcp"}, env="gcp"
    )
    globals_ = loader["globals"]
    assert globals_["data_root"] == "gs://vertex-job-project-recommender_ranking/data"
    assert globals_["gcp"]["project_id"] == "vertex-job-project"
    bucket_file = "gs://vertex-job-project-recommender_ranking/deployment.yml"
    assert globals_["deployment_settings"] == bucket_file
    vertexai = loader["vertexai"]
    assert vertexai["project_id"] == "vertex-job-project"
    assert vertexai["run_config"]["root"] == "vertex-job-project-recommender_ranking/vertex-ai"
    job = loader["catalog"]["sql_{query}"]["load_args"]["configuration"]["query"]
    assert job["defaultDataset"]["projectId"] == "vertex-job-project"
    # week 0 on BigQuery reads the chunk files the pipeline wrote to the bucket
    week0 = loader["catalog"]["recommendation_sql_{query}"]
    chunk_files = "gs://vertex-job-project-recommender_ranking/data/05_model_input/"
    assert week0["partition_uri"] == chunk_files + "recommendation_customers/*.parquet"
    assert week0["configuration"]["query"]["queryParameters"] == job["queryParameters"]
    week0["filepath"] = week0["filepath"].format(query="candidates_repurchase")
    dataset = AbstractDataset.from_config("recommendation_sql_candidates_repurchase", week0)
    assert dataset._describe()["dataset"] == "vertex-job-project.hm_recommendation_week"

"""The gcp catalog reads gs:// and runs the co-visitation SQL on BigQuery (what the gcp
environment finds at run time: test_gcp_environment.py, a kit copy)."""

from kedro.config import OmegaConfigLoader
from kedro.io import CatalogConfigResolver

from recommender_gnn.gcp_resolvers import bq_query_parameters
from recommender_gnn.settings import CONFIG_LOADER_ARGS
from tests.kedro_cli import BLUEPRINT


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
    # Each fit's SQL runs on BigQuery against that fit's dataset (the factory resolves {fit}).
    resolver = CatalogConfigResolver(catalog)
    for fit in ("train", "refit"):
        for query_name in ("covisitation_counts", "covisitation_buy2buy", "transition_counts"):
            query = resolver.resolve_pattern(f"{fit}_{query_name}")
            assert query["type"] == "pandas.GBQQueryDataset"
            assert query["filepath"] == f"src/recommender_gnn/sql/{query_name}.sql"
            configuration = query["load_args"]["configuration"]["query"]
            assert configuration["defaultDataset"] == {
                "projectId": "blueprint-test-project",
                "datasetId": f"recommender_gnn_{fit}",
            }
            names = {parameter["name"] for parameter in configuration["queryParameters"]}
            assert names == set(loader["globals"][f"{query_name}_query"])


def test_processes_is_one_locally_two_on_vertex_ai_and_set_once_at_run_time(monkeypatch):
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example.com")

    def processes(env, **runtime_params):
        loader = OmegaConfigLoader(
            str(BLUEPRINT / "conf"),
            **{**CONFIG_LOADER_ARGS, "default_run_env": env},
            env=env,
            runtime_params=runtime_params,
        )
        parameters = loader["parameters"]
        return {
            parameters["baselines"]["covisitation"]["processes"],
            parameters["baselines"]["transitions"]["processes"],
            parameters["baselines"]["sknn"]["processes"],
            parameters["blend"]["processes"],
            parameters["model_selection"]["seen_items"]["processes"],
        }

    assert processes("local") == {1}
    assert processes("gcp") == {2}
    assert processes("local", processes=3) == {3}

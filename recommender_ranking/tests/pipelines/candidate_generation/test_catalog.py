"""The SQL datasets in both environments: same files, same parameters, DuckDB transpiles all."""

import pytest
from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from recommender_ranking.datasets.duckdb_query_dataset import DuckDBQueryDataset
from tests.ranking.hm_data import SQL_DIR

CONF = SQL_DIR.parents[2] / "conf"


def catalog(env: str) -> tuple[dict, dict]:
    loader = OmegaConfigLoader(
        str(CONF),
        base_env="base",
        default_run_env=env,
        custom_resolvers={"oc.env": oc.env},
        config_patterns={"vertexai": ["vertexai*"]},
        merge_strategy={"parameters": "soft"},
    )
    return loader["catalog"], loader["globals"]


@pytest.mark.parametrize("sql_file", sorted(SQL_DIR.glob("*.sql")), ids=lambda p: p.stem)
def test_every_query_transpiles_and_its_parameters_are_in_globals(sql_file):
    local, globals_ = catalog("local")
    entry = local["sql_{query}"]
    dataset = DuckDBQueryDataset(
        filepath=str(SQL_DIR / sql_file.name),
        tables=entry["tables"],
        query_parameters=entry["query_parameters"],
    )
    duckdb_sql, parameter_names = dataset.transpile()
    assert parameter_names <= set(globals_["ranking_sql"])
    assert parameter_names, f"{sql_file.name} uses no parameter: its weeks cannot be set"
    assert "$n_train_weeks" in duckdb_sql


def test_bigquery_gets_every_parameter_with_the_globals_value(monkeypatch):
    monkeypatch.setenv("GCP_PROJECT_ID", "demo-project")
    gcp, globals_ = catalog("gcp")
    entry = gcp["sql_{query}"]
    assert entry["type"] == "pandas.GBQQueryDataset"
    assert entry["filepath"] == "src/recommender_ranking/sql/{query}.sql"
    job = entry["load_args"]["configuration"]["query"]
    assert job["defaultDataset"]["projectId"] == "demo-project"
    values = {}
    for parameter in job["queryParameters"]:
        value = parameter["parameterValue"]
        values[parameter["name"]] = (
            [item["value"] for item in value["arrayValues"]]
            if "arrayValues" in value
            else value["value"]
        )
    assert values == dict(globals_["ranking_sql"])


def test_the_bigquery_only_error_of_the_zetasql_check_runs_on_duckdb(tmp_path):
    """zetasql/must_fail/duckdb_only_function.sql must be rejected by `make zetasql-check`:
    this shows DuckDB alone would not catch it."""
    from tests.ranking.hm_data import write_tables

    broken = SQL_DIR.parents[2] / "zetasql" / "must_fail" / "duckdb_only_function.sql"
    result = DuckDBQueryDataset(filepath=str(broken), tables=write_tables(tmp_path)).load()
    assert len(result) > 0 and result["month"].str.fullmatch(r"\d{4}-\d{2}").all()

"""The SQL datasets in both environments: same files, same parameters, DuckDB transpiles all."""

import pandas as pd
import pytest
import sqlglot
from kedro.config import OmegaConfigLoader
from kedro.io.core import DatasetError
from sqlglot import exp

from recommender_ranking.datasets.duckdb_query_dataset import DuckDBQueryDataset
from recommender_ranking.settings import CONFIG_LOADER_ARGS
from tests.ranking.hm_data import QUERY_PARAMETERS, SQL_DIR

CONF = SQL_DIR.parents[2] / "conf"


def loader(env: str, runtime_params: dict | None = None) -> OmegaConfigLoader:
    """The project's config loader (settings.py), as `kedro run --env=<env> --params` makes it."""
    args = {**CONFIG_LOADER_ARGS, "default_run_env": env}
    return OmegaConfigLoader(str(CONF), runtime_params=runtime_params, **args)


def catalog(env: str, runtime_params: dict | None = None) -> tuple[dict, dict]:
    config = loader(env, runtime_params)
    return config["catalog"], config["globals"]


def source_tables(sql_file) -> set[str]:
    """The tables a query reads (its CTEs excluded)."""
    ast = sqlglot.parse_one(sql_file.read_text(), read="bigquery")
    ctes = {cte.alias for cte in ast.find_all(exp.CTE)}
    return {table.name for table in ast.find_all(exp.Table)} - ctes


@pytest.mark.parametrize("sql_file", sorted(SQL_DIR.glob("*.sql")), ids=lambda p: p.stem)
def test_every_query_transpiles_and_reads_the_calendar_computed_once(sql_file):
    local, globals_ = catalog("local")
    entry = local.get(f"sql_{sql_file.stem}", local["sql_{query}"])
    assert set(entry["tables"]) >= source_tables(sql_file)  # the catalog gives every table
    dataset = DuckDBQueryDataset(
        filepath=str(SQL_DIR / sql_file.name),
        tables=entry["tables"],
        query_parameters=entry["query_parameters"],
    )
    duckdb_sql, parameter_names = dataset.transpile()
    assert parameter_names <= set(globals_["ranking_sql"])
    if sql_file.stem == "week_calendar":
        assert {"as_of_date", "n_train_weeks"} <= parameter_names
    else:
        # the weeks come from the calendar table (directly, or through the ranked customers):
        # no other query computes them
        assert source_tables(sql_file) & {"week_calendar", "customer_weeks"}
        assert "n_train_weeks" not in parameter_names and "GENERATE_ARRAY" not in duckdb_sql


def test_week_zero_runs_the_same_queries_chunk_by_chunk():
    local, _ = catalog("local")
    chunked, labelled = local["recommendation_sql_{query}"], local["sql_{query}"]
    assert chunked["partition_table"] == "customer_weeks"
    assert chunked["categorical_strings"] is False  # as the tests' DuckDBQueryDataset
    assert chunked["partition_key"] == ["week", "customer_id"]  # one run, split by chunk
    assert chunked["result_directory"].endswith("recommendation_sql/{query}")
    assert chunked["tables"]["customer_weeks"].endswith("recommendation_customers/*.parquet")
    assert {**chunked["tables"], "customer_weeks": None} == {
        **labelled["tables"],
        "customer_weeks": None,
    }
    assert chunked["filepath"] == labelled["filepath"]


OVERRIDE = {"ranking_sql": {"test_sample_per_million": 1000, "popularity_top_n": 40}}


def test_params_ranking_sql_reach_the_queries_and_the_parameters_alike():
    """`--params ranking_sql.<key>=` (runtime_params) overrides globals for DuckDB's query
    parameters and for the nodes' parameters; without it the globals apply."""
    for runtime_params, expected in [(None, (1_000_000, 36)), (OVERRIDE, (1000, 40))]:
        config = loader("local", runtime_params)
        query = config["catalog"]["sql_{query}"]["query_parameters"]
        parameters = config["parameters"]
        assert (query["test_sample_per_million"], query["popularity_top_n"]) == expected
        assert (
            parameters["ranking_sql"]["test_sample_per_million"],
            parameters["candidate_generation"]["popularity"]["top_n"],
        ) == expected
        others = {k: v for k, v in query.items() if k not in OVERRIDE["ranking_sql"]}
        assert others.items() <= dict(config["globals"]["ranking_sql"]).items()


@pytest.mark.parametrize("runtime_params", [None, OVERRIDE], ids=["globals", "override"])
def test_bigquery_gets_every_parameter_with_the_globals_value(monkeypatch, runtime_params):
    monkeypatch.setenv("GCP_PROJECT_ID", "demo-project")
    gcp, globals_ = catalog("gcp", runtime_params)
    entry = gcp["sql_{query}"]
    assert entry["type"] == "pandas.GBQQueryDataset"
    assert entry["filepath"] == "src/recommender_ranking/sql/{query}.sql"
    job = entry["load_args"]["configuration"]["query"]
    assert job["defaultDataset"]["projectId"] == "demo-project"
    values, types = {}, {}
    for parameter in job["queryParameters"]:
        value = parameter["parameterValue"]
        values[parameter["name"]] = (
            [item["value"] for item in value["arrayValues"]]
            if "arrayValues" in value
            else value["value"]
        )
        types[parameter["name"]] = parameter["parameterType"]
    expected = {**globals_["ranking_sql"], **(runtime_params or {}).get("ranking_sql", {})}
    # BigQuery's REST API takes every value as a string (the bq_query_parameters resolver).
    assert values == {
        name: [str(item) for item in value] if isinstance(value, list) else str(value)
        for name, value in expected.items()
    }
    assert types["popularity_windows_days"] == {"type": "ARRAY", "arrayType": {"type": "INT64"}}
    assert types["sample_salt"] == {"type": "STRING"}
    assert types["test_sample_per_million"] == {"type": "INT64"}


def test_the_bigquery_only_error_of_the_zetasql_check_runs_on_duckdb(tmp_path):
    """zetasql/must_fail/duckdb_only_function.sql must be rejected by `make zetasql-check`:
    this shows DuckDB alone would not catch it."""
    from tests.ranking.hm_data import write_tables

    broken = SQL_DIR.parents[2] / "zetasql" / "must_fail" / "duckdb_only_function.sql"
    result = DuckDBQueryDataset(
        filepath=str(broken), tables=write_tables(tmp_path), categorical_strings=False
    ).load()
    assert len(result) > 0 and result["month"].str.fullmatch(r"\d{4}-\d{2}").all()


def test_a_partitioned_query_runs_once_per_file_of_its_partition_table(tmp_path):
    from tests.ranking.hm_data import run_sql, write_tables

    tables = write_tables(tmp_path)
    customer_weeks = run_sql("customer_weeks", tables)
    week0 = customer_weeks[customer_weeks["week"] == 0].sort_values("customer_id")
    chunks = tmp_path / "chunks"
    chunks.mkdir()
    for number, start in enumerate(range(0, len(week0), 4)):
        week0.iloc[start : start + 4].to_parquet(chunks / f"chunk_{number:05d}.parquet")
    dataset = DuckDBQueryDataset(
        filepath=str(SQL_DIR / "candidates_repurchase.sql"),
        tables={**tables, "customer_weeks": str(chunks / "*.parquet")},
        query_parameters=QUERY_PARAMETERS,
        partition_table="customer_weeks",
        categorical_strings=False,
    )
    loaders = dataset.load()
    assert sorted(loaders) == ["chunk_00000", "chunk_00001"]
    pieces = {name: load() for name, load in loaders.items()}
    whole = run_sql("candidates_repurchase", tables)
    keys = ["week", "customer_id", "source_rank"]
    pd.testing.assert_frame_equal(
        pd.concat(pieces.values()).sort_values(keys, ignore_index=True),
        whole[whole["week"] == 0].sort_values(keys, ignore_index=True),
        check_dtype=False,
    )
    assert set(pieces["chunk_00000"]["customer_id"]) <= set(week0["customer_id"].iloc[:4])
    with pytest.raises(DatasetError, match="partition_table 'nope' is not one of its tables"):
        DuckDBQueryDataset(filepath="x.sql", tables=tables, partition_table="nope")


@pytest.mark.parametrize(
    "query", ["candidates_copurchase", "customer_features", "article_features"]
)
def test_a_split_query_runs_once_and_gives_each_file_what_a_run_per_file_gives(tmp_path, query):
    """partition_key + result_directory: one run over every chunk, written split by chunk
    (article_features has no customer: one shared part), equals one run per chunk."""
    from tests.ranking.hm_data import run_sql, write_tables

    tables = write_tables(tmp_path)
    week0 = run_sql("customer_weeks", tables).query("week == 0").sort_values("customer_id")
    chunks = tmp_path / "chunks"
    chunks.mkdir()
    for number, start in enumerate(range(0, len(week0), 2)):
        week0.iloc[start : start + 2].to_parquet(chunks / f"chunk_{number:05d}.parquet")
    common = {
        "filepath": str(SQL_DIR / f"{query}.sql"),
        "tables": {**tables, "customer_weeks": str(chunks / "*.parquet")},
        "query_parameters": QUERY_PARAMETERS,
        "partition_table": "customer_weeks",
        "categorical_strings": False,
    }
    per_file = DuckDBQueryDataset(**common).load()
    result_directory = tmp_path / "split" / query
    result_directory.mkdir(parents=True)
    (result_directory / "stale.parquet").write_text("from an earlier run")
    split = DuckDBQueryDataset(
        **common, partition_key=["week", "customer_id"], result_directory=str(result_directory)
    ).load()
    assert sorted(split) == sorted(per_file) and len(split) == 3
    columns = list(per_file["chunk_00000"]().columns)
    for name, load in per_file.items():
        expected = load()
        got = split[name]()
        assert list(got.columns) == columns and got.dtypes.equals(expected.dtypes)
        pd.testing.assert_frame_equal(
            got.sort_values(columns, ignore_index=True),
            expected.sort_values(columns, ignore_index=True),
        )
    assert not (result_directory / "stale.parquet").exists()
    shared = (result_directory / "shared.parquet").exists()
    assert shared == (query == "article_features")
    assert len(run_sql(query, tables).query("week == 0")) == sum(
        len(load()) for load in (split.values() if not shared else [split["chunk_00000"]])
    )
    with pytest.raises(DatasetError, match="partition_key and result_directory go together"):
        DuckDBQueryDataset(**common, partition_key=["customer_id"])


def test_query_results_arrive_as_plain_pandas_types(tmp_path):
    """Arrow results: a SUM of integers (DuckDB's 128-bit decimal) and integers with NULLs
    become float64, dates datetime64[ns], as the nodes expect."""
    from tests.ranking.hm_data import write_tables

    query = tmp_path / "types.sql"
    query.write_text(
        "SELECT SUM(sales_channel_id) AS total, MAX(IF(price > 1e9, 1, NULL)) AS never, "
        "MAX(CAST(t_dat AS DATE)) AS day FROM transactions_train"
    )
    result = DuckDBQueryDataset(
        filepath=str(query), tables=write_tables(tmp_path), categorical_strings=False
    ).load()
    assert result.dtypes.astype(str).to_dict() == {
        "total": "float64",
        "never": "float64",
        "day": "datetime64[ns]",
    }
    assert result["total"].iloc[0] > 0 and result["never"].isna().all()


def test_the_candidate_nodes_read_only_the_transaction_columns_they_use(tmp_path):
    """transactions@days_customers / @days_articles: the same file as transactions@pandas
    (one dataset for Kedro's run order), two of its five columns (31.8 M rows at full size)."""
    from kedro.io import DataCatalog

    from tests.ranking.hm_data import make_transactions

    entries, _ = catalog("local")
    names = ["transactions@pandas", "transactions@days_customers", "transactions@days_articles"]
    config = {name: {**entries[name], "filepath": str(tmp_path / "t.parquet")} for name in names}
    data = DataCatalog.from_config(config)
    data.save("transactions@pandas", make_transactions())
    assert {entries[name]["filepath"] for name in names} == {entries[names[0]]["filepath"]}
    assert list(data.load("transactions@days_customers").columns) == ["t_dat", "customer_id"]
    assert list(data.load("transactions@days_articles").columns) == ["t_dat", "article_id"]
    assert len(data.load("transactions@pandas").columns) == 5

"""DuckDBQueryDataset: BigQuery SQL run by DuckDB on parquet, and its errors on bad input."""

import re
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from kedro.io.core import DatasetError

from ga4_mlops.datasets import duckdb_query_dataset
from ga4_mlops.datasets.duckdb_query_dataset import DuckDBQueryDataset
from ga4_mlops.pipelines.data_generation.schema import GA4_EVENT_SCHEMA
from tests.datasets.ga4_events import (
    QUERY_PARAMETERS,
    SQL_FILE,
    drop_field,
    event,
    write_daily_tables,
)

GLOBALS = Path(__file__).resolve().parents[2] / "conf" / "base" / "globals.yml"


def a_few_events() -> list[dict]:
    return [
        event("u1", "2021-01-05", "page_view", session=1, engagement_msec=100),
        event("u2", "2021-01-06", "view_item", session=1, item_ids=("A",)),
        event("u1", "2021-01-12", "purchase", session=2, revenue=3.0),
    ]


def feature_dataset(folder: Path, **kwargs) -> DuckDBQueryDataset:
    return DuckDBQueryDataset(
        filepath=str(SQL_FILE),
        tables={"events_*": str(folder / "events_*.parquet")},
        query_parameters=QUERY_PARAMETERS,
        **kwargs,
    )


def load_error(dataset: DuckDBQueryDataset) -> str:
    """Kedro wraps load errors in DatasetError; ours is a ValueError underneath."""
    with pytest.raises(DatasetError) as caught:
        dataset.load()
    assert isinstance(caught.value.__cause__, ValueError)
    return str(caught.value)


def test_the_feature_query_transpiles_without_unsupported_features():
    duckdb_sql, parameter_names = feature_dataset(Path("unused")).transpile()
    assert "@" not in re.sub(r"/\*.*?\*/", "", duckdb_sql, flags=re.DOTALL)  # comments say @x
    assert "$snapshot_dates" in duckdb_sql
    assert "UNNEST(event_params)" not in duckdb_sql  # key lookups became list lambdas
    assert "lambda ep:" in duckdb_sql
    globals_file = yaml.safe_load(GLOBALS.read_text())
    assert parameter_names == set(globals_file["feature_query"])


def test_a_bigquery_feature_duckdb_cannot_run_is_named(tmp_path):
    sql = tmp_path / "query.sql"
    sql.write_text("SELECT ARRAY_AGG(x ORDER BY y LIMIT 1)[OFFSET(0)] AS v FROM `events_*`")
    dataset = DuckDBQueryDataset(filepath=str(sql), tables={"events_*": "x"})
    with pytest.raises(ValueError, match=r"query\.sql uses BigQuery SQL that sqlglot cannot"):
        dataset.transpile()


def test_rewriting_key_lookups_gives_the_same_result(tmp_path):
    write_daily_tables(a_few_events(), tmp_path)
    rewritten = feature_dataset(tmp_path).load()
    plain = feature_dataset(tmp_path, rewrite_unnests=False).load()
    assert "UNNEST(event_params)" in feature_dataset(tmp_path, rewrite_unnests=False).transpile()[0]
    pd.testing.assert_frame_equal(rewritten, plain)
    assert rewritten["engagement_time_sec_lookback"].max() == pytest.approx(0.1)


def test_ids_are_strings_and_dates_are_datetimes(tmp_path):
    write_daily_tables(a_few_events(), tmp_path)
    result = feature_dataset(tmp_path, threads=1, memory_limit="512MB").load()
    assert result["user_pseudo_id"].map(type).eq(str).all()
    assert str(result["snapshot_date"].dtype) == "datetime64[ns]"
    assert result["snapshot_date"].is_monotonic_increasing  # ORDER BY snapshot_date, user
    assert list(result.columns[:2]) == ["user_pseudo_id", "snapshot_date"]


def test_a_qualified_wildcard_table_resolves_with_its_suffix(tmp_path):
    write_daily_tables(a_few_events(), tmp_path / "events")
    sql = tmp_path / "count.sql"
    sql.write_text(
        "SELECT COUNT(*) AS n, MIN(_TABLE_SUFFIX) AS first_suffix "
        "FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` "
        "WHERE _TABLE_SUFFIX >= REPLACE(@from_day, '-', '')"
    )
    dataset = DuckDBQueryDataset(
        filepath=str(sql),
        tables={
            "bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*": str(
                tmp_path / "events" / "events_*.parquet"
            )
        },
        query_parameters={"from_day": "2021-01-06", "unused": 1},
    )
    result = dataset.load()
    assert result.to_dict("records") == [{"n": 2, "first_suffix": "20210106"}]


def test_no_matching_files_names_the_path_and_table(tmp_path):
    message = load_error(feature_dataset(tmp_path / "nowhere"))
    assert f"no parquet files match '{tmp_path / 'nowhere' / 'events_*.parquet'}'" in message
    assert "table `events_*`" in message


def test_files_that_do_not_fit_the_wildcard_are_refused(tmp_path):
    write_daily_tables(a_few_events(), tmp_path)
    (tmp_path / "events_20210105.parquet").rename(tmp_path / "export_20210105.parquet")
    dataset = DuckDBQueryDataset(
        filepath=str(SQL_FILE),
        tables={"events_*": str(tmp_path / "*.parquet")},
        query_parameters=QUERY_PARAMETERS,
    )
    assert "do not start with 'events_'" in load_error(dataset)


@pytest.mark.parametrize(
    "field",
    [
        ("event_name",),
        ("event_params", "value", "int_value"),
        ("device", "web_info"),
        ("items", "item_id"),
    ],
)
def test_a_missing_field_is_named_with_its_full_path(tmp_path, field):
    schema = drop_field(GA4_EVENT_SCHEMA, field)
    write_daily_tables(a_few_events(), tmp_path, schema=schema)
    message = load_error(feature_dataset(tmp_path))
    expected = {
        ("device", "web_info"): "device.web_info.browser",
        ("items", "item_id"): "items.item_id",
    }.get(field, ".".join(field))
    assert f"the data at {tmp_path / 'events_*.parquet'} (table `events_*`)" in message
    assert f"lack field '{expected}' required by {SQL_FILE}" in message


def test_a_missing_query_parameter_is_named(tmp_path):
    write_daily_tables(a_few_events(), tmp_path)
    parameters = {k: v for k, v in QUERY_PARAMETERS.items() if k != "horizon_days"}
    dataset = DuckDBQueryDataset(
        filepath=str(SQL_FILE),
        tables={"events_*": str(tmp_path / "events_*.parquet")},
        query_parameters=parameters,
    )
    assert "needs query parameter(s) ['horizon_days']" in load_error(dataset)


def test_save_is_refused_and_exists_reflects_the_sql_file(tmp_path):
    dataset = feature_dataset(tmp_path)
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save(pd.DataFrame())
    assert dataset.exists()
    assert not DuckDBQueryDataset(filepath=str(tmp_path / "no.sql"), tables={"t": "x"}).exists()


def test_drop_field_helper_really_drops_nested_fields():
    schema = drop_field(GA4_EVENT_SCHEMA, ("event_params", "value", "int_value"))
    value_type = schema.field("event_params").type.value_type.field("value").type
    assert value_type.get_field_index("int_value") == -1
    assert value_type.get_field_index("string_value") >= 0
    assert pa.types.is_list(schema.field("event_params").type)


def test_a_result_fetched_in_chunks_equals_duckdbs_own_conversion(tmp_path, monkeypatch):
    """Chunked fetching bounds memory; it must not change a row, a value or a type."""
    write_daily_tables(a_few_events(), tmp_path)
    monkeypatch.setattr(duckdb_query_dataset, "_VECTORS_PER_CHUNK", 1)  # 2,048 rows a chunk
    sql = tmp_path / "rows.sql"
    sql.write_text(
        "SELECT x, CAST(x AS STRING) AS s, IF(MOD(x, 3) = 0, NULL, x) AS n "
        "FROM UNNEST(GENERATE_ARRAY(1, 5000)) AS x WHERE x <= @last ORDER BY x"
    )
    tables = {"events_*": str(tmp_path / "events_*.parquet")}
    chunked = DuckDBQueryDataset(filepath=str(sql), tables=tables, query_parameters={"last": 5000})
    rows = chunked.load()
    assert rows["x"].tolist() == list(range(1, 5001))
    with duckdb.connect() as connection:
        expected = connection.execute(chunked.transpile()[0], {"last": 5000}).df()
    pd.testing.assert_frame_equal(rows, expected)
    empty = DuckDBQueryDataset(filepath=str(sql), tables=tables, query_parameters={"last": 0})
    assert empty.load().columns.tolist() == ["x", "s", "n"] and empty.load().empty

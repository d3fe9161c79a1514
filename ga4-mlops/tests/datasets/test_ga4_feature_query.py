"""The GA4 feature query on the kit's DuckDBQueryDataset, as conf/local/catalog.yml runs it:
its parameters, its types, both UNNEST rewrites, and a missing GA4 field named by its path.
The dataset's generic behaviour: tests/datasets/test_duckdb_query_dataset.py (kit)."""

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from kedro.io.core import DatasetError

from ga4_mlops.datasets.duckdb_query_dataset import DuckDBQueryDataset
from ga4_mlops.pipelines.data_generation.schema import GA4_EVENT_SCHEMA
from tests.datasets.ga4_events import (
    CATALOG_OPTIONS,
    QUERY_PARAMETERS,
    SQL_FILE,
    drop_field,
    event,
    write_daily_tables,
)

BLUEPRINT = Path(__file__).resolve().parents[2]
GLOBALS = BLUEPRINT / "conf" / "base" / "globals.yml"


def a_few_events() -> list[dict]:
    return [
        event("u1", "2021-01-05", "page_view", session=1, engagement_msec=100),
        event(
            "u2",
            "2021-01-06",
            "view_item",
            session=1,
            item_ids=("A", "B"),
            item_categories=("Bags", "Bags"),
        ),
        event(
            "u1",
            "2021-01-12",
            "purchase",
            session=2,
            revenue=3.0,
            item_ids=("A",),
            item_categories=("Bags",),
        ),
    ]


def feature_dataset(folder: Path, **kwargs) -> DuckDBQueryDataset:
    return DuckDBQueryDataset(
        filepath=str(SQL_FILE),
        tables={"events_*": str(folder / "events_*.parquet")},
        query_parameters=QUERY_PARAMETERS,
        **{**CATALOG_OPTIONS, **kwargs},
    )


def load_error(dataset: DuckDBQueryDataset) -> str:
    """Kedro wraps load errors in DatasetError; ours is a ValueError underneath."""
    with pytest.raises(DatasetError) as caught:
        dataset.load()
    assert isinstance(caught.value.__cause__, ValueError)
    return str(caught.value)


def test_the_catalog_gives_the_feature_query_the_options_these_tests_use():
    catalog = yaml.safe_load((BLUEPRINT / "conf" / "local" / "catalog.yml").read_text())
    entry = catalog["ga4_events@user_features"]
    assert {key: entry[key] for key in CATALOG_OPTIONS} == CATALOG_OPTIONS


def test_the_feature_query_transpiles_without_unsupported_features():
    duckdb_sql, parameter_names = feature_dataset(Path("unused")).transpile()
    assert "@" not in re.sub(r"/\*.*?\*/", "", duckdb_sql, flags=re.DOTALL)  # comments say @x
    assert "$snapshot_dates" in duckdb_sql
    assert "UNNEST(event_params)" not in duckdb_sql  # key lookups became list lambdas
    assert "lambda ep:" in duckdb_sql
    globals_file = yaml.safe_load(GLOBALS.read_text())
    assert parameter_names == set(globals_file["feature_query"])


def test_rewriting_unnests_gives_the_same_result(tmp_path):
    write_daily_tables(a_few_events(), tmp_path)
    rewritten = feature_dataset(tmp_path).load()
    plain = feature_dataset(tmp_path, rewrite_unnest_lookups=False, sql_rewrites=[])
    assert "UNNEST(event_params)" in plain.transpile()[0]
    pd.testing.assert_frame_equal(rewritten, plain.load())
    assert rewritten["engagement_time_sec_lookback"].max() == pytest.approx(0.1)
    assert set(rewritten["top_viewed_category_lookback"]) == {"(none)", "Bags"}


def test_ids_are_strings_and_dates_are_datetimes(tmp_path):
    write_daily_tables(a_few_events(), tmp_path)
    result = feature_dataset(tmp_path, threads=1, memory_limit="512MB").load()
    assert result["user_pseudo_id"].map(type).eq(str).all()
    assert not isinstance(result["user_pseudo_id"].dtype, pd.CategoricalDtype)
    assert str(result["snapshot_date"].dtype) == "datetime64[ns]"
    assert result["snapshot_date"].is_monotonic_increasing  # ORDER BY snapshot_date, user
    assert list(result.columns[:2]) == ["user_pseudo_id", "snapshot_date"]
    for column in ("next_purchase_category", "top_viewed_category_lookback"):
        assert all(isinstance(value, str) for value in result[column].dropna()), column
    assert str(result["top_viewed_category_share_lookback"].dtype) == "float64"


def test_a_missing_query_parameter_is_named(tmp_path):
    write_daily_tables(a_few_events(), tmp_path)
    dataset = feature_dataset(tmp_path)
    dataset._query_parameters.pop("horizon_days")
    assert "needs query parameter(s) ['horizon_days']" in load_error(dataset)


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


def test_drop_field_helper_really_drops_nested_fields():
    schema = drop_field(GA4_EVENT_SCHEMA, ("event_params", "value", "int_value"))
    value_type = schema.field("event_params").type.value_type.field("value").type
    assert value_type.get_field_index("int_value") == -1
    assert value_type.get_field_index("string_value") >= 0
    assert pa.types.is_list(schema.field("event_params").type)

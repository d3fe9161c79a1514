"""The raw GA4 export contract, on real Parquet files read by the catalog's schema dataset."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ga4_mlops.datasets.parquet_schemas_dataset import ParquetSchemasDataset
from ga4_mlops.pipelines.data_generation.schema import GA4_EVENT_SCHEMA
from ga4_mlops.pipelines.feature_extraction.raw_contract import (
    GA4_QUERY_FIELDS,
    arrow_field_types,
    check_raw_export,
)
from tests.datasets.ga4_events import drop_field, event, strip_to_schema, write_daily_tables


def write_two_days(folder, second_day_schema: pa.Schema = GA4_EVENT_SCHEMA):
    write_daily_tables([event("u1", "2021-01-10", "page_view", session=1)], folder)
    write_daily_tables(
        [event("u1", "2021-01-11", "page_view", session=2)], folder, schema=second_day_schema
    )
    return ParquetSchemasDataset(filepath=f"{folder}/events_*.parquet")


def test_export_files_that_match_the_schema_pass(tmp_path):
    report = check_raw_export(write_two_days(tmp_path).load())
    assert report["tables_checked"] == 2
    assert (report["first_table"], report["last_table"]) == (
        "events_20210110.parquet",
        "events_20210111.parquet",
    )


def test_a_file_without_device_is_named_with_the_field_and_type(tmp_path):
    dataset = write_two_days(tmp_path, drop_field(GA4_EVENT_SCHEMA, ("device",)))
    with pytest.raises(
        ValueError,
        match=r"events_20210111.parquet: field 'device' is missing \(expected STRUCT\); "
        r"events_20210111.parquet: field 'device.category' is missing \(expected STRING\)",
    ):
        check_raw_export(dataset.load())


def test_a_missing_nested_field_is_named(tmp_path):
    dataset = write_two_days(tmp_path, drop_field(GA4_EVENT_SCHEMA, ("device", "web_info")))
    with pytest.raises(
        ValueError, match=r"field 'device.web_info.browser' is missing \(expected STRING\)"
    ):
        check_raw_export(dataset.load())


def test_event_timestamp_stored_as_text_is_named(tmp_path):
    index = GA4_EVENT_SCHEMA.get_field_index("event_timestamp")
    as_text = GA4_EVENT_SCHEMA.set(index, pa.field("event_timestamp", pa.string()))
    write_daily_tables([event("u1", "2021-01-10", "page_view", session=1)], tmp_path)
    row = event("u1", "2021-01-11", "page_view", session=2)
    row = strip_to_schema(
        {**row, "event_timestamp": str(row["event_timestamp"])}, pa.struct(list(as_text))
    )
    pq.write_table(
        pa.Table.from_pylist([row], schema=as_text), tmp_path / "events_20210111.parquet"
    )
    dataset = ParquetSchemasDataset(filepath=f"{tmp_path}/events_*.parquet")
    with pytest.raises(
        ValueError,
        match=r"1 field\(s\) break the GA4 export schema the feature query reads: "
        r"events_20210111.parquet: field 'event_timestamp' is STRING, expected INT64",
    ):
        check_raw_export(dataset.load())


def test_no_export_file_at_all_is_named(tmp_path):
    with pytest.raises(ValueError, match="found no daily export table"):
        check_raw_export(ParquetSchemasDataset(filepath=f"{tmp_path}/events_*.parquet").load())


def test_bigquery_information_schema_rows_are_checked_alike():
    rows = pd.DataFrame(
        [
            ("events_20210101", path, "ARRAY<STRUCT<key STRING>>" if kind == "ARRAY" else kind)
            for path, kind in GA4_QUERY_FIELDS.items()
        ],
        columns=["table_name", "field_path", "data_type"],
    )
    assert check_raw_export(rows)["tables_checked"] == 1
    broken = rows.assign(
        data_type=rows["data_type"].where(rows["field_path"] != "geo.country", "INT64")
    )
    with pytest.raises(ValueError, match=r"events_20210101: field 'geo.country' is INT64"):
        check_raw_export(broken)


def test_the_generator_schema_satisfies_the_contract():
    types = arrow_field_types(GA4_EVENT_SCHEMA)
    assert {path: types[path] for path in GA4_QUERY_FIELDS} == GA4_QUERY_FIELDS


def test_the_gcp_catalog_reads_the_daily_tables_field_paths(monkeypatch):
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog

    from ga4_mlops.config_resolvers import CUSTOM_RESOLVERS
    from tests.conftest import BLUEPRINT

    monkeypatch.setenv("GCP_PROJECT_ID", "my-billing-project")
    config = OmegaConfigLoader(
        conf_source=str(BLUEPRINT / "conf"),
        base_env="base",
        default_run_env="local",
        env="gcp",
        custom_resolvers=CUSTOM_RESOLVERS,
    )
    entry = config["catalog"]["ga4_events@schemas"]
    assert "INFORMATION_SCHEMA.COLUMN_FIELD_PATHS" in entry["sql"]
    query = entry["load_args"]["configuration"]["query"]
    assert query["defaultDataset"]["datasetId"] == "ga4_obfuscated_sample_ecommerce"
    assert DataCatalog.from_config({"ga4_events@schemas": entry}).get("ga4_events@schemas")

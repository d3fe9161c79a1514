"""The raw GA4 export contract, on real Parquet files read by the catalog's schema dataset."""

import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kedro.io import DataCatalog, DatasetError

from ga4_mlops.datasets.parquet_schemas_dataset import ParquetSchemasDataset
from ga4_mlops.pipelines.data_generation.schema import GA4_EVENT_SCHEMA
from ga4_mlops.pipelines.feature_extraction.raw_contract import (
    GA4_QUERY_FIELDS,
    arrow_field_types,
    check_raw_export,
)
from tests.datasets.ga4_events import (
    drop_field,
    event,
    run_feature_query,
    strip_to_schema,
    write_daily_tables,
)


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
    from tests.kedro_cli import BLUEPRINT

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


def write_days(folder, *days: str) -> ParquetSchemasDataset:
    """One page view of u1 on each 'YYYY-MM-DD' day, one file per day."""
    events = [event("u1", day, "page_view", session=n) for n, day in enumerate(days, 1)]
    write_daily_tables(events, folder)
    return ParquetSchemasDataset(filepath=f"{folder}/events_*.parquet")


def test_a_copied_day_file_is_named_with_the_day_it_repeats(tmp_path):
    dataset = write_days(tmp_path, "2021-01-10", "2021-01-11")
    shutil.copy(tmp_path / "events_20210110.parquet", tmp_path / "events_20210110 (1).parquet")
    with pytest.raises(
        ValueError,
        match=r"the same day's events are in more than one file, so they would be counted "
        r"twice: 20210110 in \['events_20210110 \(1\).parquet', 'events_20210110.parquet'\]",
    ):
        check_raw_export(dataset.load())


def test_the_copy_would_count_the_days_events_twice(tmp_path):
    """Why the check above: the feature query reads the copy as well (same data, one copy)."""
    days = ["2021-01-05", "2021-01-06", "2021-01-07", "2021-01-08", "2021-01-09"]
    events = [event("u1", day, "page_view", session=n) for n, day in enumerate(days, 1)]
    once = run_feature_query(events, tmp_path / "once", snapshot_dates=["2021-01-10"])
    write_daily_tables(events, tmp_path / "twice")
    shutil.copy(
        tmp_path / "twice" / "events_20210109.parquet",
        tmp_path / "twice" / "events_20210109 (1).parquet",
    )
    twice = run_feature_query(events, tmp_path / "twice", snapshot_dates=["2021-01-10"])
    assert once["events_lookback"].tolist() == [5]
    assert twice["events_lookback"].tolist() == [6]


def test_the_same_days_events_under_another_day_name_are_named(tmp_path):
    dataset = write_days(tmp_path, "2021-01-10", "2021-01-11")
    shutil.copy(tmp_path / "events_20210111.parquet", tmp_path / "events_20210112.parquet")
    with pytest.raises(
        ValueError,
        match=r"20210111 in \['events_20210111.parquet', 'events_20210112.parquet'\]",
    ):
        check_raw_export(dataset.load())


def test_an_empty_day_file_is_named(tmp_path):
    dataset = write_days(tmp_path, "2021-01-10", "2021-01-11", "2021-01-12")
    empty = GA4_EVENT_SCHEMA.empty_table()
    pq.write_table(empty, tmp_path / "events_20210111.parquet")
    with pytest.raises(
        ValueError,
        match=r"ga4_events@schemas: day file\(s\) \['events_20210111.parquet'\] hold no events "
        r"\(0 rows\): a day file must hold that day's events",
    ):
        check_raw_export(dataset.load())


def test_a_day_missing_between_the_first_and_the_last_is_named(tmp_path):
    dataset = write_days(tmp_path, "2021-01-10", "2021-01-11", "2021-01-14")
    with pytest.raises(
        ValueError,
        match=r"no day file holds the events of 2 day\(s\) between 20210110 and 20210114: "
        r"20210112, 20210113",
    ):
        check_raw_export(dataset.load())


def test_a_file_of_several_days_is_named(tmp_path):
    dataset = write_days(tmp_path, "2021-01-10")
    rows = [event("u1", day, "page_view", session=1) for day in ("2021-01-11", "2021-01-12")]
    row_type = pa.struct(list(GA4_EVENT_SCHEMA))
    table = pa.Table.from_pylist(
        [strip_to_schema(row, row_type) for row in rows], schema=GA4_EVENT_SCHEMA
    )
    pq.write_table(table, tmp_path / "events_20210111.parquet")
    with pytest.raises(ValueError, match=r"events_20210111.parquet \(20210111 to 20210112\)"):
        check_raw_export(dataset.load())


def test_days_are_found_without_column_statistics(tmp_path):
    write_days(tmp_path, "2021-01-10")
    table = pq.read_table(tmp_path / "events_20210110.parquet")
    pq.write_table(table, tmp_path / "events_20210111.parquet", write_statistics=False)
    footers = ParquetSchemasDataset(filepath=f"{tmp_path}/events_*.parquet").load()
    assert footers["events_20210111.parquet"].event_dates == ("20210110", "20210110")
    with pytest.raises(ValueError, match=r"20210110 in \['events_20210110.parquet', "):
        check_raw_export(footers)


def test_files_that_are_not_parquet_are_named_by_the_catalog_load(tmp_path):
    write_days(tmp_path, "2021-01-10", "2021-01-11", "2021-01-12")
    (tmp_path / "events_20210111.parquet").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "events_20210112.parquet").write_bytes(b"")
    catalog = DataCatalog.from_config(
        {
            "ga4_events@schemas": {
                "type": "ga4_mlops.datasets.parquet_schemas_dataset.ParquetSchemasDataset",
                "filepath": f"{tmp_path}/events_*.parquet",
            }
        }
    )
    with pytest.raises(DatasetError) as raised:
        catalog.load("ga4_events@schemas")
    message = str(raised.value)
    assert message.startswith("ga4_events@schemas: 2 file(s) of ")
    assert "are not readable Parquet (no valid footer): events_20210111.parquet (" in message
    assert "; events_20210112.parquet (" in message
    assert "events_20210110.parquet" not in message


def test_the_generated_export_passes_with_its_days(tiny_project):
    """The generator's daily files (the tiny end-to-end run's): one file per day, none empty."""
    folder = tiny_project / "data" / "01_raw" / "ga4_events"
    assert len(list(folder.glob("events_*.parquet"))) > 30
    report = check_raw_export(ParquetSchemasDataset(filepath=f"{folder}/events_*.parquet").load())
    assert report["tables_checked"] == len(list(folder.glob("events_*.parquet")))
    assert report["first_day"] == report["first_table"][7:15]

"""The GA4 export contract the feature query relies on, checked on every daily table.

DuckDB reads the daily files with ``union_by_name``: a file without ``device`` gets NULL
devices, and ``event_timestamp`` stored as text is cast silently. Both give a model-input
table that looks fine and is wrong. So every field the query reads is checked, with its type,
in every file (or every BigQuery daily table) before the query runs; a missing column or
nested field, or a wrong type, fails with the file, the field and the expected type.

The daily files themselves are checked too, from their footers (local Parquet export only:
BigQuery names its daily tables itself): a file with no rows leaves that day's buyers without
their label, a day held by two files (a copy ``events_20210101 (1).parquet``, or a re-export
under another name) counts every event twice, and a day missing between the first and the
last one reads as a day nobody visited. Each fails with the files and days to fix.

Types are BigQuery's names; Parquet extracts of the export (``bq extract``) carry the Arrow
equivalents, mapped below. Fields the query does not read are not checked: exports differ in
them across GA4 versions (``is_active_user``, ``collected_traffic_source``...).
"""

import logging
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa

from ga4_mlops.datasets.parquet_schemas_dataset import ParquetFooter

logger = logging.getLogger(__name__)

DATASET = "ga4_events@schemas"
# Every field src/ga4_mlops/sql/user_features.sql reads, by path (repeated fields: the path
# goes through the array into its elements).
GA4_QUERY_FIELDS = {
    "event_date": "STRING",
    "event_timestamp": "INT64",
    "event_name": "STRING",
    "event_params": "ARRAY",
    "event_params.key": "STRING",
    "event_params.value": "STRUCT",
    "event_params.value.string_value": "STRING",
    "event_params.value.int_value": "INT64",
    "user_pseudo_id": "STRING",
    "user_first_touch_timestamp": "INT64",
    "device": "STRUCT",
    "device.category": "STRING",
    "device.operating_system": "STRING",
    "device.web_info": "STRUCT",
    "device.web_info.browser": "STRING",
    "geo": "STRUCT",
    "geo.country": "STRING",
    "traffic_source": "STRUCT",
    "traffic_source.medium": "STRING",
    "traffic_source.source": "STRING",
    "ecommerce": "STRUCT",
    "ecommerce.purchase_revenue_in_usd": "FLOAT64",
    "items": "ARRAY",
    "items.item_id": "STRING",
    "items.item_category": "STRING",
}


def _bigquery_type(data_type: pa.DataType) -> str:
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "STRING"
    if pa.types.is_int64(data_type):
        return "INT64"
    if pa.types.is_float64(data_type):
        return "FLOAT64"
    if pa.types.is_boolean(data_type):
        return "BOOL"
    if pa.types.is_struct(data_type):
        return "STRUCT"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return "ARRAY"
    return str(data_type)  # anything else: shown as is, and never equal to a contract type


def arrow_field_types(schema: pa.Schema) -> dict[str, str]:
    """``{dotted path: BigQuery type}`` of every field, arrays entered into their elements."""
    types: dict[str, str] = {}

    def visit(path: str, data_type: pa.DataType) -> None:
        types[path] = _bigquery_type(data_type)
        if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
            data_type = data_type.value_type
        if pa.types.is_struct(data_type):
            for child in data_type:
                visit(f"{path}.{child.name}", child.type)

    for field in schema:
        visit(field.name, field.type)
    return types


def bigquery_field_types(column_field_paths: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Per table, ``{field_path: type}`` from BigQuery's INFORMATION_SCHEMA.COLUMN_FIELD_PATHS
    (``ARRAY<STRUCT<...>>`` is ``ARRAY``, ``STRUCT<...>`` is ``STRUCT``)."""
    tables: dict[str, dict[str, str]] = {}
    for row in column_field_paths.itertuples(index=False):
        data_type = str(row.data_type).split("<", 1)[0]
        tables.setdefault(str(row.table_name), {})[str(row.field_path)] = data_type
    return tables


def _day(event_date: str) -> date:
    return date(int(event_date[:4]), int(event_date[4:6]), int(event_date[6:8]))


def _check_daily_files(footers: dict[str, ParquetFooter]) -> tuple[str | None, str | None]:
    """One day's events per file, every day in one file only, no day missing in between."""
    empty = [name for name, footer in footers.items() if footer.num_rows == 0]
    if empty:
        raise ValueError(
            f"{DATASET}: day file(s) {empty} hold no events (0 rows): a day file must hold "
            "that day's events, or that day's users lose their features and labels. "
            "Re-export the day(s)"
        )
    files_of_day: dict[str, list[str]] = defaultdict(list)
    several = []
    for name, footer in sorted(footers.items()):
        if footer.event_dates is None:  # no event_date column: the schema check named it
            continue
        first, last = footer.event_dates
        if first != last:
            several.append(f"{name} ({first} to {last})")
        files_of_day[first].append(name)
    if several:
        raise ValueError(
            f"{DATASET}: file(s) hold events of several days (event_date): "
            f"{'; '.join(several)}. Each events_YYYYMMDD.parquet holds one day's events"
        )
    shared = [f"{day} in {names}" for day, names in sorted(files_of_day.items()) if len(names) > 1]
    if shared:
        raise ValueError(
            f"{DATASET}: the same day's events are in more than one file, so they would be "
            f"counted twice: {'; '.join(shared)}. Keep one file per day (a copy such as "
            "'events_YYYYMMDD (1).parquet' is read too: remove it)"
        )
    if not files_of_day:  # every event_date NULL: the query's own checks name it
        return None, None
    first_day, last_day = _day(min(files_of_day)), _day(max(files_of_day))
    missing = [
        (first_day + timedelta(days=offset)).strftime("%Y%m%d")
        for offset in range((last_day - first_day).days + 1)
        if (first_day + timedelta(days=offset)).strftime("%Y%m%d") not in files_of_day
    ]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
        )
        raise ValueError(
            f"{DATASET}: no day file holds the events of {len(missing)} day(s) between "
            f"{min(files_of_day)} and {max(files_of_day)}: {shown}. Add their "
            "events_YYYYMMDD.parquet files: a missing day reads as a day nobody visited"
        )
    return min(files_of_day), max(files_of_day)


def check_raw_export(exported: dict[str, ParquetFooter] | pd.DataFrame) -> dict[str, Any]:
    """Fail on the first tables that break the contract; report what was checked.

    Args:
        exported: ``{file name: ParquetFooter}`` of the daily files (local), or BigQuery's
            ``INFORMATION_SCHEMA.COLUMN_FIELD_PATHS`` rows of the daily tables (gcp).
    """
    tables = (
        bigquery_field_types(exported)
        if isinstance(exported, pd.DataFrame)
        else {name: arrow_field_types(footer.schema) for name, footer in exported.items()}
    )
    if not tables:
        raise ValueError(f"{DATASET} found no daily export table: the feature query has no input")
    problems = []
    for table, types in sorted(tables.items()):
        for field, expected in GA4_QUERY_FIELDS.items():
            found = types.get(field)
            if found is None:
                problems.append(f"{table}: field '{field}' is missing (expected {expected})")
            elif found != expected:
                problems.append(f"{table}: field '{field}' is {found}, expected {expected}")
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ValueError(
            f"{DATASET}: {len(problems)} field(s) break the GA4 export schema the feature "
            f"query reads: {shown}{more}"
        )
    report: dict[str, Any] = {
        "tables_checked": len(tables),
        "first_table": min(tables),
        "last_table": max(tables),
        "fields": dict(GA4_QUERY_FIELDS),
    }
    if not isinstance(exported, pd.DataFrame):
        report["first_day"], report["last_day"] = _check_daily_files(exported)
        report["rows"] = sum(footer.num_rows for footer in exported.values())
    logger.info("GA4 export contract: %d daily tables checked, all conform", len(tables))
    return report

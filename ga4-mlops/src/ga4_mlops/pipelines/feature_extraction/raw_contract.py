"""The GA4 export contract the feature query relies on, checked on every daily table.

DuckDB reads the daily files with ``union_by_name``: a file without ``device`` gets NULL
devices, and ``event_timestamp`` stored as text is cast silently. Both give a model-input
table that looks fine and is wrong. So every field the query reads is checked, with its type,
in every file (or every BigQuery daily table) before the query runs; a missing column or
nested field, or a wrong type, fails with the file, the field and the expected type.

Types are BigQuery's names; Parquet extracts of the export (``bq extract``) carry the Arrow
equivalents, mapped below. Fields the query does not read are not checked: exports differ in
them across GA4 versions (``is_active_user``, ``collected_traffic_source``...).
"""

import logging
from typing import Any

import pandas as pd
import pyarrow as pa

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


def check_raw_export(schemas: dict[str, pa.Schema] | pd.DataFrame) -> dict[str, Any]:
    """Fail on the first tables that break the contract; report what was checked.

    Args:
        schemas: ``{file name: Arrow schema}`` of the daily files (local), or BigQuery's
            ``INFORMATION_SCHEMA.COLUMN_FIELD_PATHS`` rows of the daily tables (gcp).
    """
    tables = (
        bigquery_field_types(schemas)
        if isinstance(schemas, pd.DataFrame)
        else {name: arrow_field_types(schema) for name, schema in schemas.items()}
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
    logger.info("GA4 export contract: %d daily tables checked, all conform", len(tables))
    return {
        "tables_checked": len(tables),
        "first_table": min(tables),
        "last_table": max(tables),
        "fields": dict(GA4_QUERY_FIELDS),
    }

"""Hand-built GA4 export events for tests: a few rows per case, in the exact export schema.

Independent of the data_generation pipeline on purpose: tests of the feature query must not
move when the generator changes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ga4_mlops.datasets.duckdb_query_dataset import DuckDBQueryDataset
from ga4_mlops.datasets.ga4_sql_rewrites import LATERAL_UNNEST
from ga4_mlops.pipelines.data_generation.schema import GA4_EVENT_SCHEMA


def micros(day: str, hour: int = 12, minute: int = 0) -> int:
    """Microseconds since the epoch (UTC) of ``day`` ('YYYY-MM-DD') at ``hour:minute``."""
    moment = datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


def event(
    user: str,
    day: str,
    name: str,
    *,
    session: int | None,
    hour: int = 12,
    minute: int = 0,
    engagement_msec: int | None = None,
    engaged: bool | None = None,
    revenue: float | None = None,
    item_ids: tuple[str, ...] = (),
    item_categories: tuple[str | None, ...] = (),
    first_touch: str | None = None,
    device: str | None = "desktop",
    operating_system: str | None = "Windows",
    browser: str | None = "Chrome",
    country: str | None = "United States",
    medium: str | None = "organic",
    source: str | None = "google",
) -> dict[str, Any]:
    """One event row as the GA4 export writes it (unused fields left NULL); ``item_categories``
    gives the items' item_category in ``item_ids`` order (NULL past its end)."""
    params: list[dict[str, Any]] = []
    if session is not None:
        params.append({"key": "ga_session_id", "value": {"int_value": session}})
        params.append({"key": "ga_session_number", "value": {"int_value": 1}})
    params.append({"key": "page_location", "value": {"string_value": "https://shop/"}})
    if engagement_msec is not None:
        params.append({"key": "engagement_time_msec", "value": {"int_value": engagement_msec}})
    if engaged is not None:
        params.append(
            {"key": "session_engaged", "value": {"string_value": "1" if engaged else "0"}}
        )
    return {
        "event_date": day.replace("-", ""),
        "event_timestamp": micros(day, hour, minute),
        "event_name": name,
        "event_params": params,
        "user_pseudo_id": user,
        "user_first_touch_timestamp": micros(first_touch, 0, 1) if first_touch else None,
        "device": {
            "category": device,
            "operating_system": operating_system,
            "web_info": {"browser": browser, "browser_version": "1"},
        },
        "geo": {"country": country, "continent": "Americas"},
        "traffic_source": {"medium": medium, "source": source, "name": "(organic)"},
        "platform": "WEB",
        "ecommerce": (
            {"purchase_revenue_in_usd": revenue, "transaction_id": "T1"}
            if revenue is not None
            else None
        ),
        "items": [
            {
                "item_id": item_id,
                "price_in_usd": 10.0,
                "item_category": item_categories[i] if i < len(item_categories) else None,
            }
            for i, item_id in enumerate(item_ids)
        ],
    }


def write_daily_tables(
    events: list[dict[str, Any]], folder: Path, schema: pa.Schema = GA4_EVENT_SCHEMA
) -> list[Path]:
    """Write ``events_YYYYMMDD.parquet`` files, one per event_date, like the daily export."""
    folder.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in events:
        by_day[row["event_date"]].append(row)
    paths = []
    for day, rows in sorted(by_day.items()):
        path = folder / f"events_{day}.parquet"
        row_type = pa.struct(list(schema))
        rows = [strip_to_schema(row, row_type) for row in rows]
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        paths.append(path)
    return paths


def drop_field(schema: pa.Schema, path: tuple[str, ...]) -> pa.Schema:
    """``schema`` without the (possibly nested) field at ``path``, lists of structs included."""

    def without(data_type: pa.DataType, rest: tuple[str, ...]) -> pa.DataType:
        if pa.types.is_list(data_type):
            return pa.list_(without(data_type.value_type, rest))
        fields = []
        for field in data_type:
            if field.name == rest[0]:
                if len(rest) == 1:
                    continue
                field = field.with_type(without(field.type, rest[1:]))
            fields.append(field)
        return pa.struct(fields)

    if len(path) == 1:
        return schema.remove(schema.get_field_index(path[0]))
    index = schema.get_field_index(path[0])
    field = schema.field(index)
    return schema.set(index, field.with_type(without(field.type, path[1:])))


def strip_to_schema(row: Any, data_type: pa.DataType) -> Any:
    """Drop from ``row`` whatever ``data_type`` does not have, so pyarrow accepts it."""
    if row is None:
        return None
    if pa.types.is_list(data_type):
        return [strip_to_schema(item, data_type.value_type) for item in row]
    if pa.types.is_struct(data_type):
        return {field.name: strip_to_schema(row.get(field.name), field.type) for field in data_type}
    return row


def day_range(first: str, last: str) -> list[str]:
    """Every 'YYYY-MM-DD' from ``first`` to ``last`` inclusive."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [date.fromordinal(d).isoformat() for d in range(start.toordinal(), end.toordinal() + 1)]


SQL_FILE = Path(__file__).resolve().parents[2] / "src" / "ga4_mlops" / "sql" / "user_features.sql"
# The options conf/local/catalog.yml gives the feature query's DuckDBQueryDataset.
CATALOG_OPTIONS: dict[str, Any] = {"sql_rewrites": [LATERAL_UNNEST], "categorical_strings": False}
QUERY_PARAMETERS: dict[str, Any] = {
    "start_date": "2021-01-01",
    "end_date": "2021-01-31",
    "snapshot_dates": ["2021-01-10", "2021-01-17"],
    "lookback_days": 7,
    "horizon_days": 7,
    "target_event": "purchase",
    "sample_fraction": 1.0,
    "sample_seed": 42,
}


def run_feature_query(
    events: list[dict[str, Any]], folder: Path, **parameters: Any
) -> pd.DataFrame:
    """Write ``events`` as daily files under ``folder`` and run user_features.sql on them."""
    write_daily_tables(events, folder)
    return DuckDBQueryDataset(
        filepath=str(SQL_FILE),
        tables={"events_*": str(folder / "events_*.parquet")},
        query_parameters={**QUERY_PARAMETERS, **parameters},
        **CATALOG_OPTIONS,
    ).load()

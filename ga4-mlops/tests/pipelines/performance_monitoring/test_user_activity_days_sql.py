"""What src/ga4_mlops/sql/user_activity_days.sql computes, run by DuckDB on hand-built events.

Checked against a pandas computation written from the definitions (events, target events,
purchase revenue and the first purchase's category per user and day), and its revenue and
categories against user_features.sql's revenue_usd_horizon and next_purchase_category: a
realized target must be the target the model was trained on.
"""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ga4_mlops.datasets.duckdb_query_dataset import DuckDBQueryDataset
from tests.datasets.ga4_events import (
    CATALOG_OPTIONS,
    QUERY_PARAMETERS,
    event,
    run_feature_query,
    write_daily_tables,
)

SQL_FILE = (
    Path(__file__).resolve().parents[3] / "src" / "ga4_mlops" / "sql" / "user_activity_days.sql"
)
COLUMNS = [
    "user_pseudo_id",
    "event_day",
    "events",
    "target_events",
    "revenue_usd",
    "first_purchase_category",
]


def with_items(row: dict[str, Any], *categories: str | None) -> dict[str, Any]:
    """The event with one item per category, in that order (None: an item without one)."""
    items = [{"item_id": f"i{i}", "item_category": c} for i, c in enumerate(categories)]
    return {**row, "items": items}


def activity_case() -> list[dict[str, Any]]:
    """Purchases with and without revenue, two on one day (the earlier one's first item
    decides the category, whatever their order in the file), revenue on a non-purchase event
    (not purchase revenue), a purchase without items, an event without user and events
    outside the date window."""
    return [
        event("u1", "2021-01-03", "page_view", session=1),
        with_items(event("u1", "2021-01-03", "add_to_cart", session=1, hour=13), "Bags"),
        with_items(
            event("u1", "2021-01-10", "purchase", session=3, hour=18, revenue=19.99), "Office"
        ),
        with_items(
            event("u1", "2021-01-10", "purchase", session=2, revenue=80.0), "Apparel", "Bags"
        ),
        event("u1", "2021-01-12", "add_to_cart", session=4, revenue=500.0),  # not a purchase
        event("u2", "2021-01-09", "purchase", session=5),  # no ecommerce record, no items
        event("u2", "2021-01-09", "page_view", session=5, hour=14),
        with_items(event("u2", "2021-01-16", "purchase", session=6, revenue=25.5), None, "New"),
        with_items(event("u3", "2021-01-16", "purchase", session=7, revenue=0.0), "Drinkware"),
        with_items(event("u3", "2021-01-24", "purchase", session=8, revenue=10.01), "Bags"),
        {**event("u4", "2021-01-11", "purchase", session=9, revenue=7.0), "user_pseudo_id": None},
        event("u5", "2020-12-31", "purchase", session=10, revenue=99.0),  # before the window
        event("u5", "2021-02-01", "purchase", session=11, revenue=99.0),  # after it
    ]


def run_activity_query(
    events: list[dict[str, Any]], folder: Path, **parameters: Any
) -> pd.DataFrame:
    write_daily_tables(events, folder)
    return DuckDBQueryDataset(
        filepath=str(SQL_FILE),
        tables={"events_*": str(folder / "events_*.parquet")},
        query_parameters={**QUERY_PARAMETERS, **parameters},
        **CATALOG_OPTIONS,
    ).load()


def expected_activity(events: list[dict[str, Any]], params: dict[str, Any]) -> pd.DataFrame:
    """The same table from the event rows in plain pandas."""
    frame = pd.DataFrame(
        {
            "user_pseudo_id": e["user_pseudo_id"],
            "event_day": datetime.strptime(e["event_date"], "%Y%m%d").date(),
            "name": e["event_name"],
            "revenue": (e["ecommerce"] or {}).get("purchase_revenue_in_usd"),
            "timestamp": e["event_timestamp"],
            "first_item_category": (e["items"][0].get("item_category") if e["items"] else None)
            or "(not set)",
        }
        for e in events
    )
    start, end = date.fromisoformat(params["start_date"]), date.fromisoformat(params["end_date"])
    frame = frame[
        frame["user_pseudo_id"].notna()
        & (frame["event_day"] >= start)
        & (frame["event_day"] <= end)
    ]
    frame = frame.assign(
        target=(frame["name"] == params["target_event"]).astype("int64"),
        purchase_revenue=frame["revenue"].where(frame["name"] == "purchase").fillna(0.0),
    )
    table = (
        frame.groupby(["user_pseudo_id", "event_day"], as_index=False)
        .agg(
            events=("name", "size"),
            target_events=("target", "sum"),
            revenue_usd=("purchase_revenue", "sum"),
        )
        .assign(revenue_usd=lambda t: t["revenue_usd"].round(2))
    )
    purchases = frame[frame["name"] == "purchase"].sort_values("timestamp")
    first = purchases.drop_duplicates(["user_pseudo_id", "event_day"]).set_index(
        ["user_pseudo_id", "event_day"]
    )["first_item_category"]
    keys = zip(table["user_pseudo_id"], table["event_day"], strict=True)
    table["first_purchase_category"] = [first.get(key) for key in keys]
    table["event_day"] = pd.to_datetime(table["event_day"])
    return table


def normalised(table: pd.DataFrame) -> pd.DataFrame:
    table = table[COLUMNS].copy()
    table["user_pseudo_id"] = table["user_pseudo_id"].astype(str)
    table["event_day"] = pd.to_datetime(table["event_day"]).astype("datetime64[ns]")
    table[["events", "target_events"]] = table[["events", "target_events"]].astype("int64")
    table["revenue_usd"] = table["revenue_usd"].astype("float64")
    table["first_purchase_category"] = table["first_purchase_category"].astype(object)
    table.loc[table["first_purchase_category"].isna(), "first_purchase_category"] = None
    return table.sort_values(["user_pseudo_id", "event_day"], ignore_index=True)


@pytest.mark.parametrize("target_event", ["purchase", "add_to_cart"])
def test_events_target_events_and_purchase_revenue_per_user_and_day(tmp_path, target_event):
    events = activity_case()
    params = {**QUERY_PARAMETERS, "target_event": target_event}
    result = run_activity_query(events, tmp_path / "events", target_event=target_event)
    assert list(result.columns) == COLUMNS
    pd.testing.assert_frame_equal(normalised(result), normalised(expected_activity(events, params)))
    by_day = normalised(result).set_index(["user_pseudo_id", "event_day"])["revenue_usd"]
    assert by_day.loc[("u1", pd.Timestamp("2021-01-10"))] == pytest.approx(99.99)
    assert by_day.loc[("u1", pd.Timestamp("2021-01-12"))] == 0.0  # add_to_cart's revenue
    assert by_day.loc[("u2", pd.Timestamp("2021-01-09"))] == 0.0  # purchase without revenue
    category = normalised(result).set_index(["user_pseudo_id", "event_day"])
    category = category["first_purchase_category"]
    assert category.loc[("u1", pd.Timestamp("2021-01-10"))] == "Apparel"  # the earlier one
    assert category.loc[("u2", pd.Timestamp("2021-01-09"))] == "(not set)"  # no items
    assert category.loc[("u2", pd.Timestamp("2021-01-16"))] == "(not set)"  # first item's
    assert pd.isna(category.loc[("u1", pd.Timestamp("2021-01-03"))])  # no purchase that day


def test_revenue_over_a_horizon_is_the_feature_querys_revenue_target(tmp_path):
    """Summed over [S, S + horizon_days), the daily revenue is revenue_usd_horizon."""
    events = activity_case()
    activity = normalised(run_activity_query(events, tmp_path / "activity"))
    features = run_feature_query(events, tmp_path / "features")
    labelled = features.dropna(subset=["revenue_usd_horizon"])
    assert len(labelled) >= 3 and (labelled["revenue_usd_horizon"] > 0).sum() >= 2
    horizon = QUERY_PARAMETERS["horizon_days"]
    for row in labelled.itertuples():
        snapshot = pd.Timestamp(row.snapshot_date)
        window = activity[
            (activity["user_pseudo_id"] == row.user_pseudo_id)
            & (activity["event_day"] >= snapshot)
            & (activity["event_day"] < snapshot + timedelta(days=horizon))
        ]
        assert window["revenue_usd"].sum() == pytest.approx(row.revenue_usd_horizon), (
            row.user_pseudo_id,
            snapshot,
        )


def test_the_first_category_over_a_horizon_is_the_feature_querys_multiclass_target(tmp_path):
    """The earliest day of [S, S + horizon_days) with a purchase gives next_purchase_category;
    no purchase in it gives '(none)'."""
    events = activity_case()
    activity = normalised(run_activity_query(events, tmp_path / "activity"))
    features = run_feature_query(events, tmp_path / "features")
    labelled = features.dropna(subset=["next_purchase_category"])
    assert (labelled["next_purchase_category"] != "(none)").sum() >= 2
    horizon = QUERY_PARAMETERS["horizon_days"]
    for row in labelled.itertuples():
        snapshot = pd.Timestamp(row.snapshot_date)
        window = activity[
            (activity["user_pseudo_id"] == row.user_pseudo_id)
            & (activity["event_day"] >= snapshot)
            & (activity["event_day"] < snapshot + timedelta(days=horizon))
        ].dropna(subset=["first_purchase_category"])
        realized = window["first_purchase_category"].iloc[0] if len(window) else "(none)"
        assert realized == row.next_purchase_category, (row.user_pseudo_id, snapshot)

"""What src/ga4_mlops/sql/user_features.sql computes, run by DuckDB on hand-built events."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.datasets.ga4_events import QUERY_PARAMETERS, event, run_feature_query

NUMERIC = [
    "days_since_last_session",
    "days_since_first_touch",
    "sessions_lookback",
    "sessions_last_7d",
    "active_days_lookback",
    "events_lookback",
    "page_views_lookback",
    "engagement_time_sec_lookback",
    "engaged_sessions_lookback",
    "view_item_lookback",
    "add_to_cart_lookback",
    "begin_checkout_lookback",
    "purchases_lookback",
    "revenue_usd_lookback",
    "distinct_items_viewed_lookback",
    "max_funnel_step",
    "events_per_session",
    "top_viewed_category_share_lookback",
]
# Latest known value before the snapshot (the top viewed category is its own feature).
CATEGORICAL = [
    "device_category",
    "operating_system",
    "browser",
    "country",
    "first_touch_medium",
    "first_touch_source",
]
CATEGORY_FEATURES = ["top_viewed_category_lookback"]
FUNNEL = {"view_item": 1, "add_to_cart": 2, "begin_checkout": 3, "purchase": 4}


def small_case() -> list[dict[str, Any]]:
    """Six users around snapshots 2021-01-10 and 2021-01-17 (lookback 7, horizon 7).

    u1 and u2 share ga_session_id 1; u1 has a session across midnight, an event on the
    first lookback day (01-03) and a purchase exactly on the snapshot 01-10; u2 buys on
    the last horizon day of 01-10 (01-16); u3 buys on 01-24, the first day after the
    horizon of 01-17, and has history outside the lookback; u4 has no ga_session_id.
    Categories: u1's first purchase of 01-10 has no items ('(not set)'); u2 buys twice on
    01-16, the earlier one in the later session; u3 views an item without category; u6 views
    two categories once each (a tie).
    """
    return [
        event(
            "u1",
            "2021-01-03",
            "page_view",
            session=1,
            hour=9,
            first_touch="2020-12-25",
            engagement_msec=4000,
            engaged=True,
        ),
        event(
            "u1",
            "2021-01-05",
            "view_item",
            session=2,
            hour=23,
            minute=50,
            item_ids=("A", "B"),
            item_categories=("Bags", "Apparel"),
            engagement_msec=1500,
        ),
        event(
            "u1",
            "2021-01-06",
            "add_to_cart",
            session=2,
            hour=0,
            minute=10,
            item_ids=("A",),
            engaged=True,
        ),
        event(
            "u1",
            "2021-01-06",
            "view_item",
            session=2,
            hour=0,
            minute=20,
            item_ids=("B",),
            item_categories=("Apparel",),
        ),
        event("u1", "2021-01-10", "purchase", session=3, hour=0, revenue=80.0, device="tablet"),
        event(
            "u1",
            "2021-01-10",
            "purchase",
            session=3,
            hour=1,
            item_ids=("A",),
            item_categories=("Bags",),
        ),
        event("u1", "2021-01-12", "page_view", session=4, browser="Safari"),
        event(
            "u2",
            "2021-01-08",
            "page_view",
            session=1,
            device="mobile",
            operating_system="Android",
            country="India",
            medium="cpc",
            source="ads",
        ),
        event(
            "u2",
            "2021-01-09",
            "begin_checkout",
            session=5,
            hour=10,
            device="desktop",
            operating_system="Android",
            country="India",
            medium="cpc",
            source="ads",
        ),
        event(
            "u2",
            "2021-01-09",
            "page_view",
            session=5,
            hour=11,
            device=None,
            browser=None,
            operating_system=None,
            country=None,
            medium=None,
            source=None,
        ),
        event(
            "u2",
            "2021-01-16",
            "purchase",
            session=6,
            revenue=25.5,
            engaged=True,
            item_ids=("B",),
            item_categories=("Bags",),
        ),
        event(
            "u2",
            "2021-01-16",
            "purchase",
            session=12,
            hour=9,
            item_ids=("S", "B"),
            item_categories=("Stationery", "Bags"),
        ),
        event("u3", "2021-01-02", "page_view", session=7),
        event(
            "u3",
            "2021-01-12",
            "view_item",
            session=8,
            item_ids=("C", "C", "D"),
            item_categories=("Drinkware", "Drinkware", None),
        ),
        event("u3", "2021-01-24", "purchase", session=9, revenue=10.0),
        event("u4", "2021-01-09", "page_view", session=None, engagement_msec=700),
        event("u4", "2021-01-09", "page_view", session=None, hour=13),
        event("u5", "2021-01-10", "page_view", session=10),
        event(
            "u5",
            "2021-01-11",
            "view_item",
            session=10,
            item_ids=("E",),
            item_categories=("Office",),
        ),
        event(
            "u6",
            "2021-01-14",
            "view_item",
            session=13,
            item_ids=("F", "G"),
            item_categories=("Office", "Bags"),
        ),
    ]


def expected_features(events: list[dict[str, Any]], params: dict[str, Any]) -> pd.DataFrame:
    """The same features from the event rows in plain pandas, written from the definitions."""
    rows = []
    for e in events:
        params_by_key = {p["key"]: p["value"] for p in e["event_params"]}
        rows.append(
            {
                "user": e["user_pseudo_id"],
                "day": datetime.strptime(e["event_date"], "%Y%m%d").date(),
                "ts": e["event_timestamp"],
                "name": e["event_name"],
                "session": params_by_key.get("ga_session_id", {}).get("int_value"),
                "engagement": params_by_key.get("engagement_time_msec", {}).get("int_value"),
                "engaged": params_by_key.get("session_engaged", {}).get("string_value") == "1",
                "revenue": (e["ecommerce"] or {}).get("purchase_revenue_in_usd"),
                "items": [item["item_id"] for item in e["items"]],
                "categories": [item.get("item_category") for item in e["items"]],
                "first_touch": e["user_first_touch_timestamp"],
                "device_category": e["device"]["category"],
                "operating_system": e["device"]["operating_system"],
                "browser": e["device"]["web_info"]["browser"],
                "country": e["geo"]["country"],
                "first_touch_medium": e["traffic_source"]["medium"],
                "first_touch_source": e["traffic_source"]["source"],
            }
        )
    frame = pd.DataFrame(rows)
    start = date.fromisoformat(params["start_date"])
    end = date.fromisoformat(params["end_date"])
    frame = frame[(frame["day"] >= start) & (frame["day"] <= end)]
    last_day = frame["day"].max()
    lookback, horizon = params["lookback_days"], params["horizon_days"]
    out = []
    for snapshot_text in params["snapshot_dates"]:
        snapshot = date.fromisoformat(snapshot_text)
        first_lookback_day = snapshot - timedelta(days=lookback)
        for user, events_of_user in frame.groupby("user"):
            history = events_of_user[events_of_user["day"] < snapshot]
            look = history[history["day"] >= first_lookback_day]
            if look.empty:
                continue
            last7 = look[look["day"] >= snapshot - timedelta(days=7)]
            first_touch = history["first_touch"].dropna()
            first_seen = history["day"].min()
            first_day = first_seen
            if len(first_touch):
                touch_day = datetime.fromtimestamp(first_touch.min() / 1e6, UTC).date()
                first_day = min(touch_day, first_seen)
            sessions = look["session"].dropna().nunique()
            viewed = look[look["name"] == "view_item"]["items"].explode().dropna()
            horizon_events = events_of_user[
                (events_of_user["day"] >= snapshot)
                & (events_of_user["day"] < snapshot + timedelta(days=horizon))
            ]
            label: float = float((horizon_events["name"] == params["target_event"]).any())
            revenue: float = (
                horizon_events.loc[horizon_events["name"] == "purchase", "revenue"].fillna(0).sum()
            )
            category = next_purchase_category(horizon_events)
            if (last_day - snapshot).days < horizon - 1:
                label = revenue = category = np.nan
            record = {
                "user_pseudo_id": user,
                "snapshot_date": pd.Timestamp(snapshot),
                "days_since_last_session": (snapshot - look["day"].max()).days,
                "days_since_first_touch": (snapshot - first_day).days,
                "sessions_lookback": sessions,
                "sessions_last_7d": last7["session"].dropna().nunique(),
                "active_days_lookback": look["day"].nunique(),
                "events_lookback": len(look),
                "page_views_lookback": int((look["name"] == "page_view").sum()),
                "engagement_time_sec_lookback": look["engagement"].fillna(0).sum() / 1000,
                "engaged_sessions_lookback": look.loc[look["engaged"], "session"]
                .dropna()
                .nunique(),
                "view_item_lookback": int((look["name"] == "view_item").sum()),
                "add_to_cart_lookback": int((look["name"] == "add_to_cart").sum()),
                "begin_checkout_lookback": int((look["name"] == "begin_checkout").sum()),
                "purchases_lookback": int((look["name"] == "purchase").sum()),
                "revenue_usd_lookback": look.loc[look["name"] == "purchase", "revenue"]
                .fillna(0)
                .sum(),
                "distinct_items_viewed_lookback": viewed.nunique(),
                "max_funnel_step": look["name"].map(FUNNEL).fillna(0).max(),
                "events_per_session": len(look) / sessions if sessions else np.nan,
                "label": label,
                "revenue_usd_horizon": revenue,
                "next_purchase_category": category,
                **top_viewed_category(look),
            }
            for column in CATEGORICAL:
                known = history[history[column].notna()]
                record[column] = known.loc[known["ts"].idxmax(), column] if len(known) else None
            out.append(record)
    return pd.DataFrame(out).sort_values(["snapshot_date", "user_pseudo_id"], ignore_index=True)


def next_purchase_category(horizon_events: pd.DataFrame) -> str:
    """The first item's category of the earliest purchase; '(none)' without a purchase."""
    purchases = horizon_events[horizon_events["name"] == "purchase"].sort_values("ts")
    if purchases.empty:
        return "(none)"
    categories = purchases["categories"].iloc[0]
    return categories[0] if categories and categories[0] is not None else "(not set)"


def top_viewed_category(look: pd.DataFrame) -> dict[str, Any]:
    """The most viewed category (items of view_item events; ties: alphabetical) and its share."""
    viewed = look.loc[look["name"] == "view_item", "categories"].explode().dropna()
    if viewed.empty:
        return {"top_viewed_category_lookback": "(none)", "top_viewed_category_share_lookback": 0.0}
    counts = viewed.value_counts()
    top = sorted(counts[counts == counts.max()].index)[0]
    return {
        "top_viewed_category_lookback": top,
        "top_viewed_category_share_lookback": counts[top] / len(viewed),
    }


def compare(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    actual = actual.sort_values(["snapshot_date", "user_pseudo_id"], ignore_index=True)
    assert actual["user_pseudo_id"].tolist() == expected["user_pseudo_id"].tolist()
    assert actual["snapshot_date"].tolist() == expected["snapshot_date"].tolist()
    for column in NUMERIC:
        np.testing.assert_allclose(
            actual[column].astype(float), expected[column].astype(float), err_msg=column
        )
    for column in CATEGORICAL + CATEGORY_FEATURES:
        assert actual[column].tolist() == expected[column].tolist(), column
    np.testing.assert_array_equal(
        actual["label"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
        expected["label"].astype(float).to_numpy(),
    )
    np.testing.assert_allclose(
        actual["revenue_usd_horizon"].astype(float),
        expected["revenue_usd_horizon"].astype(float),
        err_msg="revenue_usd_horizon",
    )
    known = actual["label"].notna()
    assert (actual["next_purchase_category"].isna() == ~known).all()  # NULL with the label
    assert (
        actual.loc[known, "next_purchase_category"].tolist()
        == expected.loc[known.to_numpy(), "next_purchase_category"].tolist()
    )
    assert expected["next_purchase_category"].isna().tolist() == (~known).tolist()


def test_features_match_an_independent_pandas_computation(tmp_path):
    events = small_case()
    actual = run_feature_query(events, tmp_path / "events")
    expected = expected_features(events, QUERY_PARAMETERS)
    compare(actual, expected)
    # the hand-checked facts the case was built for
    by_key = actual.set_index(["user_pseudo_id", actual["snapshot_date"].dt.strftime("%m-%d")])
    assert by_key.loc[("u1", "01-10"), "sessions_lookback"] == 2  # midnight session counted once
    assert by_key.loc[("u1", "01-10"), "events_lookback"] == 4  # 01-03 in, purchase on 01-10 out
    assert by_key.loc[("u2", "01-10"), "sessions_lookback"] == 2  # shared id 1 is its own session
    assert by_key.loc[("u2", "01-10"), "device_category"] == "desktop"  # latest non-NULL
    assert by_key.loc[("u1", "01-17"), "device_category"] == "desktop"  # 01-12 event
    assert by_key.loc[("u1", "01-10"), "label"] == 1  # purchase exactly on the snapshot
    assert by_key.loc[("u2", "01-10"), "label"] == 1  # purchase on the last horizon day
    assert by_key.loc[("u3", "01-17"), "label"] == 0  # purchase on the day after the horizon
    assert by_key.loc[("u1", "01-10"), "revenue_usd_horizon"] == 80.0  # on the snapshot: in
    assert by_key.loc[("u2", "01-10"), "revenue_usd_horizon"] == 25.5  # last horizon day: in
    assert by_key.loc[("u3", "01-17"), "revenue_usd_horizon"] == 0.0  # the day after: out
    assert by_key.loc[("u1", "01-10"), "revenue_usd_lookback"] == 0.0  # the snapshot is not past
    assert by_key.loc[("u3", "01-17"), "days_since_first_touch"] == 15  # before the lookback
    assert by_key.loc[("u1", "01-10"), "days_since_first_touch"] == 16  # first_touch field
    assert np.isnan(by_key.loc[("u4", "01-10"), "events_per_session"])  # no ga_session_id
    assert by_key.loc[("u3", "01-17"), "distinct_items_viewed_lookback"] == 2
    assert by_key.loc[("u1", "01-10"), "next_purchase_category"] == "(not set)"  # no items
    assert by_key.loc[("u2", "01-10"), "next_purchase_category"] == "Stationery"  # earliest
    assert by_key.loc[("u3", "01-17"), "next_purchase_category"] == "(none)"  # after horizon
    assert by_key.loc[("u1", "01-10"), "top_viewed_category_lookback"] == "Apparel"  # 2 of 3
    assert by_key.loc[("u1", "01-10"), "top_viewed_category_share_lookback"] == pytest.approx(2 / 3)
    assert by_key.loc[("u3", "01-17"), "top_viewed_category_share_lookback"] == 1.0  # NULL out
    assert by_key.loc[("u6", "01-17"), "top_viewed_category_lookback"] == "Bags"  # tie
    assert by_key.loc[("u4", "01-10"), "top_viewed_category_lookback"] == "(none)"
    assert by_key.loc[("u4", "01-10"), "top_viewed_category_share_lookback"] == 0.0
    assert ("u3", "01-10") not in by_key.index  # history only outside its lookback
    assert ("u5", "01-10") not in by_key.index  # first event on the snapshot itself
    assert set(actual["data_first_date"].dt.date) == {date(2021, 1, 2)}
    assert set(actual["data_last_date"].dt.date) == {date(2021, 1, 24)}


def test_features_match_pandas_with_a_longer_lookback_and_add_to_cart_target(tmp_path):
    events = small_case()
    params = {**QUERY_PARAMETERS, "lookback_days": 14, "target_event": "add_to_cart"}
    actual = run_feature_query(events, tmp_path / "events", **params)
    compare(actual, expected_features(events, params))
    assert len(actual) > len(expected_features(events, QUERY_PARAMETERS))


def test_events_on_or_after_the_snapshot_change_no_feature(tmp_path):
    events = small_case()
    later = [
        event(
            user,
            day,
            name,
            session=session,
            hour=hour,
            revenue=99.0,
            item_ids=("Z",),
            item_categories=("Electronics",),
            first_touch="2020-06-01",
            device="smart tv",
            browser="Edge",
            country="Peru",
            medium="email",
            source="newsletter",
            engagement_msec=99_000,
            engaged=True,
        )
        for user, session in [("u1", 1), ("u2", 1), ("u4", 77), ("u9", 5)]
        for day, name, hour in [
            ("2021-01-10", "purchase", 0),
            ("2021-01-10", "view_item", 23),
            ("2021-01-13", "add_to_cart", 12),
        ]
    ]
    snapshot = {**QUERY_PARAMETERS, "snapshot_dates": ["2021-01-10"]}
    before = run_feature_query(events, tmp_path / "before", **snapshot)
    after = run_feature_query(events + later, tmp_path / "after", **snapshot)
    assert after["user_pseudo_id"].tolist() == before["user_pseudo_id"].tolist()  # no u9
    features = NUMERIC + CATEGORICAL + CATEGORY_FEATURES
    pd.testing.assert_frame_equal(after[features], before[features])
    changed = after["label"].astype(int) != before["label"].astype(int)
    assert after.loc[changed, "user_pseudo_id"].tolist() == ["u4"]  # u4 now buys in horizon


@pytest.mark.parametrize(
    ("purchase_day", "last_data_day", "label"),
    [
        ("2021-01-09", "2021-01-20", 0),  # the day before the snapshot is a feature
        ("2021-01-10", "2021-01-20", 1),  # the snapshot day opens the horizon
        ("2021-01-16", "2021-01-20", 1),  # S + horizon_days - 1 closes it
        ("2021-01-17", "2021-01-20", 0),  # S + horizon_days is outside
        ("2021-01-12", "2021-01-16", 1),  # data end on the last horizon day: labelled
        ("2021-01-12", "2021-01-15", None),  # data end one day short: unknown
    ],
)
def test_label_window_boundaries(tmp_path, purchase_day, last_data_day, label):
    events = [
        event("buyer", "2021-01-05", "page_view", session=1),
        event(
            "buyer",
            purchase_day,
            "purchase",
            session=2,
            revenue=5.0,
            item_ids=("A",),
            item_categories=("Bags",),
        ),
        event("other", last_data_day, "page_view", session=3),
    ]
    result = run_feature_query(
        events, tmp_path / "events", snapshot_dates=["2021-01-10"], end_date="2021-01-31"
    )
    buyer = result.set_index("user_pseudo_id").loc["buyer"]
    if label is None:
        assert pd.isna(buyer["label"])
        assert pd.isna(buyer["revenue_usd_horizon"])  # the same window, unknown alike
        assert pd.isna(buyer["next_purchase_category"])
    else:
        assert buyer["label"] == label
        assert buyer["revenue_usd_horizon"] == 5.0 * label
        assert buyer["next_purchase_category"] == ("Bags" if label else "(none)")


def test_the_date_window_bounds_what_is_read(tmp_path):
    events = [
        event("early", "2021-01-04", "page_view", session=1),
        event("late", "2021-01-08", "page_view", session=2),
        event("late", "2021-01-12", "purchase", session=2),
    ]
    result = run_feature_query(
        events,
        tmp_path / "events",
        start_date="2021-01-05",
        end_date="2021-01-11",
        snapshot_dates=["2021-01-10"],
    )
    assert result["user_pseudo_id"].tolist() == ["late"]  # 01-04 is before start_date
    assert pd.isna(result["label"].iloc[0])  # the 01-12 purchase lies after end_date
    assert result["data_last_date"].iloc[0] == pd.Timestamp("2021-01-08")


def many_users(n_users: int = 400) -> list[dict[str, Any]]:
    return [event(f"user-{i:04d}", "2021-01-05", "page_view", session=i) for i in range(n_users)]


def test_the_user_sample_is_deterministic_per_seed(tmp_path):
    events = many_users()
    half = {"sample_fraction": 0.5, "snapshot_dates": ["2021-01-10"]}
    first = run_feature_query(events, tmp_path / "a", sample_seed=7, **half)
    again = run_feature_query(events, tmp_path / "b", sample_seed=7, **half)
    other_seed = run_feature_query(events, tmp_path / "c", sample_seed=8, **half)
    everyone = run_feature_query(
        events, tmp_path / "d", sample_fraction=1.0, snapshot_dates=["2021-01-10"]
    )
    assert first["user_pseudo_id"].tolist() == again["user_pseudo_id"].tolist()
    assert 140 <= len(first) <= 260  # about half of 400
    assert set(first["user_pseudo_id"]) != set(other_seed["user_pseudo_id"])
    assert len(everyone) == 400
    smaller = run_feature_query(
        events, tmp_path / "e", sample_seed=7, sample_fraction=0.2, snapshot_dates=["2021-01-10"]
    )
    assert set(smaller["user_pseudo_id"]) < set(first["user_pseudo_id"])  # nested samples

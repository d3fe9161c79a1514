"""Export rows: Arrow columns of exactly the GA4 export schema (users, params, items)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .catalogue import Site
from .schema import GA4_EVENT_SCHEMA, ITEM, KEY_VALUE_LIST
from .vocabulary import (
    CART_EVENTS,
    DEVICE_PROFILES,
    GEO_PLACES,
    LANDING,
    LANGUAGES,
    PARAM_KEYS,
    SINGLE_ITEM_EVENTS,
    SLOT_ENGAGEMENT,
    SLOT_PAGE_VIEW,
    SLOT_SCROLL,
    SLOT_SESSION_START,
    STRING_PARAMS,
    TRAFFIC_SOURCES,
    event_code,
)


def string_array(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string()).take(pa.array(codes))


def struct_array(
    struct_type: pa.StructType,
    columns: dict[str, pa.Array],
    length: int,
    null_rows: np.ndarray | None = None,
) -> pa.StructArray:
    """A StructArray of exactly ``struct_type``; fields not given are all null."""
    fields = list(struct_type)
    arrays = [columns.get(f.name, pa.nulls(length, f.type)) for f in fields]
    mask = None if null_rows is None else pa.array(null_rows, type=pa.bool_())
    return pa.StructArray.from_arrays(arrays, fields=fields, mask=mask)


def user_export_columns(users: pd.DataFrame) -> dict[str, pa.Array]:
    """User-level export columns, built once and taken per event."""
    n = len(users)
    profile = users["device_profile"].to_numpy()
    columns = list(zip(*DEVICE_PROFILES, strict=True))
    device_type = GA4_EVENT_SCHEMA.field("device").type
    web_info = struct_array(
        device_type.field("web_info").type,
        {
            "browser": string_array(columns[5], profile),
            "browser_version": string_array(columns[6], profile),
        },
        n,
    )
    device = struct_array(
        device_type,
        {
            "category": string_array(columns[0], profile),
            "mobile_brand_name": string_array(columns[3], profile),
            "mobile_model_name": string_array(columns[4], profile),
            "mobile_marketing_name": string_array(("<Other>",), np.zeros(n, dtype=np.int64)),
            "operating_system": string_array(columns[1], profile),
            "operating_system_version": string_array(columns[2], profile),
            "language": string_array([lang for lang, _ in LANGUAGES], users["language"].to_numpy()),
            "is_limited_ad_tracking": string_array(("No",), np.zeros(n, dtype=np.int64)),
            "web_info": web_info,
        },
        n,
    )
    place = users["geo_place"].to_numpy()
    geo_columns = list(zip(*GEO_PLACES, strict=True))
    geo = struct_array(
        GA4_EVENT_SCHEMA.field("geo").type,
        {
            name: string_array(geo_columns[i], place)
            for i, name in enumerate(("continent", "sub_continent", "country", "region", "city"))
        }
        | {"metro": string_array(("(not set)",), np.zeros(n, dtype=np.int64))},
        n,
    )
    source = users["traffic_source"].to_numpy()
    traffic_columns = list(zip(*TRAFFIC_SOURCES, strict=True))
    traffic = struct_array(
        GA4_EVENT_SCHEMA.field("traffic_source").type,
        {
            "name": string_array(traffic_columns[0], source),
            "medium": string_array(traffic_columns[1], source),
            "source": string_array(traffic_columns[2], source),
        },
        n,
    )
    return {
        "user_pseudo_id": pa.array(users["user_pseudo_id"].tolist(), type=pa.string()),
        "user_first_touch_timestamp": pa.array(
            users["user_first_touch_timestamp"].to_numpy(), type=pa.int64()
        ),
        "device": device,
        "geo": geo,
        "traffic_source": traffic,
    }


def build_event_params(
    site: Site,
    page_code: np.ndarray,
    page_type: np.ndarray,
    traffic: np.ndarray,
    start: np.ndarray,
    number: np.ndarray,
    engaged: np.ndarray,
    dwell: np.ndarray,
    ev_page: np.ndarray,
    ev_slot: np.ndarray,
    es: np.ndarray,
) -> pa.ListArray:
    """``event_params``: the keys each event carries in the real export, in a fixed order."""
    n_events = ev_page.size
    key = {name: i for i, name in enumerate(PARAM_KEYS)}
    has = np.zeros((n_events, len(PARAM_KEYS)), dtype=bool)
    int_value = np.zeros((n_events, len(PARAM_KEYS)), dtype=np.int64)
    string_code = np.full((n_events, len(PARAM_KEYS)), -1, dtype=np.int64)
    landing = page_type[ev_page] == LANDING
    page_view = ev_slot == SLOT_PAGE_VIEW

    def put_int(name: str, rows: np.ndarray, values: np.ndarray | int) -> None:
        has[:, key[name]] = rows
        int_value[:, key[name]] = values

    def put_string(name: str, rows: np.ndarray, codes: np.ndarray | int) -> None:
        has[:, key[name]] = rows & (np.asarray(codes) >= 0)
        string_code[:, key[name]] = codes

    everywhere = np.ones(n_events, dtype=bool)
    put_int("ga_session_id", everywhere, start[es])
    put_int("ga_session_number", everywhere, number[es])
    put_string("page_location", everywhere, site.page_location[page_code[ev_page]])
    put_string("page_title", everywhere, site.page_title[page_code[ev_page]])
    previous_page = site.page_location[page_code[np.maximum(ev_page - 1, 0)]]
    referrer = np.where(landing, site.traffic_referrer[traffic[es]], previous_page)
    put_string("page_referrer", page_view, referrer)
    put_int("entrances", (ev_slot == SLOT_SESSION_START) | (page_view & landing), 1)
    acquisition = landing & (ev_slot <= SLOT_PAGE_VIEW)
    put_string("source", acquisition, site.traffic_source[traffic[es]])
    put_string("medium", acquisition, site.traffic_medium[traffic[es]])
    put_string("campaign", acquisition, site.traffic_campaign[traffic[es]])
    put_string("session_engaged", everywhere, np.array(site.engaged)[engaged[es].astype(int)])
    put_int(
        "engagement_time_msec",
        ev_slot == SLOT_ENGAGEMENT,
        np.round(dwell[ev_page] * 1000).astype(np.int64),
    )
    put_int("percent_scrolled", ev_slot == SLOT_SCROLL, 90)

    flat = np.flatnonzero(has.ravel())
    key_index = flat % len(PARAM_KEYS)
    is_string_key = np.array([name in STRING_PARAMS for name in PARAM_KEYS])[key_index]
    codes = string_code.ravel()[flat]
    string_value = site.strings.take(
        pa.array(np.where(is_string_key, codes, 0), mask=~is_string_key)
    )
    int_value_array = pa.array(int_value.ravel()[flat], mask=is_string_key, type=pa.int64())
    entry_type = KEY_VALUE_LIST.value_type
    value = struct_array(
        entry_type.field("value").type,
        {"string_value": string_value, "int_value": int_value_array},
        flat.size,
    )
    entries = struct_array(
        entry_type, {"key": string_array(PARAM_KEYS, key_index), "value": value}, flat.size
    )
    offsets = np.concatenate([[0], np.cumsum(has.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), entries, type=KEY_VALUE_LIST)


def build_items_and_ecommerce(
    rng: np.random.Generator,
    site: Site,
    cfg: dict[str, Any],
    adds: np.ndarray,
    page_item: np.ndarray,
    ps: np.ndarray,
    n_sessions: int,
    ev_name: np.ndarray,
    ev_page: np.ndarray,
    es: np.ndarray,
) -> tuple[pa.ListArray, pa.StructArray, np.ndarray]:
    """``items`` and ``ecommerce``: checkout steps and purchase carry the session's cart."""
    n_events = ev_name.size
    add_page = np.flatnonzero(adds)
    add_item = page_item[add_page]
    add_quantity = 1 + rng.poisson(cfg["extra_quantity_mean"], add_page.size)
    add_session = ps[add_page]
    cart_size = np.bincount(add_session, minlength=n_sessions)
    cart_start = np.cumsum(cart_size) - cart_size
    add_of_page = np.cumsum(adds) - 1
    n_catalogue = site.item_price.size
    cart_unique = np.bincount(
        np.unique(add_session * n_catalogue + add_item) // n_catalogue, minlength=n_sessions
    )

    single = np.isin(ev_name, [event_code(e) for e in SINGLE_ITEM_EVENTS])
    cart_event = np.isin(ev_name, [event_code(e) for e in CART_EVENTS])
    per_event = np.where(single, 1, np.where(cart_event, cart_size[es], 0))
    offsets = np.concatenate([[0], np.cumsum(per_event)])
    owner = np.repeat(np.arange(n_events), per_event)
    position = np.arange(owner.size) - offsets[owner]
    item = np.empty(owner.size, dtype=np.int64)
    quantity = np.ones(owner.size, dtype=np.int64)
    from_page = single[owner]
    item[from_page] = page_item[ev_page[owner[from_page]]]
    added = from_page & (ev_name[owner] == event_code("add_to_cart"))
    quantity[added] = add_quantity[add_of_page[ev_page[owner[added]]]]
    in_cart = cart_start[es[owner[~from_page]]] + position[~from_page]
    item[~from_page] = add_item[in_cart]
    quantity[~from_page] = add_quantity[in_cart]

    price = site.item_price[item]
    sold = ev_name[owner] == event_code("purchase")
    item_take = pa.array(item)
    n_items = owner.size

    def constant(value: str) -> pa.Array:
        return string_array((value,), np.zeros(n_items, dtype=np.int64))

    revenue_per_item = pa.array(price * quantity, mask=~sold, type=pa.float64())
    item_struct = struct_array(
        ITEM,
        {
            "item_id": site.item_id.take(item_take),
            "item_name": site.item_name.take(item_take),
            "item_brand": constant("Google"),
            "item_variant": constant("(not set)"),
            "item_category": site.item_category.take(item_take),
            "item_category2": constant("(not set)"),
            "item_category3": constant("(not set)"),
            "price_in_usd": pa.array(price, type=pa.float64()),
            "price": pa.array(price, type=pa.float64()),
            "quantity": pa.array(quantity, type=pa.int64()),
            "item_revenue_in_usd": revenue_per_item,
            "item_revenue": revenue_per_item,
            "coupon": constant("(not set)"),
            "affiliation": constant("(not set)"),
            "item_list_id": constant("(not set)"),
            "item_list_name": constant("(not set)"),
            "promotion_id": constant("(not set)"),
            "promotion_name": constant("(not set)"),
            "creative_name": constant("(not set)"),
            "creative_slot": constant("(not set)"),
        },
        n_items,
    )
    items = pa.ListArray.from_arrays(
        pa.array(offsets.astype(np.int32)), item_struct, type=pa.list_(ITEM)
    )

    has_ecommerce = cart_event | (ev_name == event_code("add_to_cart"))
    is_purchase = ev_name == event_code("purchase")
    total_quantity = np.bincount(owner, weights=quantity, minlength=n_events).astype(np.int64)
    revenue = np.round(np.bincount(owner, weights=price * quantity, minlength=n_events), 2)
    unique_items = np.where(cart_event, cart_unique[es], 1)
    n_purchases = int(is_purchase.sum())
    transaction_number = rng.integers(10_000, 1_000_000, n_purchases)
    not_set = rng.random(n_purchases) < cfg["transaction_id_not_set_share"]
    transaction = np.full(n_events, None, dtype=object)
    transaction[is_purchase] = [
        "(not set)" if missing else str(number)
        for number, missing in zip(transaction_number.tolist(), not_set.tolist(), strict=True)
    ]
    purchase_revenue = pa.array(revenue, mask=~is_purchase, type=pa.float64())
    ecommerce = struct_array(
        GA4_EVENT_SCHEMA.field("ecommerce").type,
        {
            "total_item_quantity": pa.array(total_quantity, type=pa.int64()),
            "purchase_revenue_in_usd": purchase_revenue,
            "purchase_revenue": purchase_revenue,
            "unique_items": pa.array(unique_items, type=pa.int64()),
            "transaction_id": pa.array(transaction, type=pa.string()),
        },
        n_events,
        null_rows=~has_ecommerce,
    )
    return items, ecommerce, revenue

"""Sessions and the funnel: who visits when, and the events each session fires in a day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .catalogue import Site, build_site
from .export import (
    build_event_params,
    build_items_and_ecommerce,
    string_array,
    struct_array,
    user_export_columns,
)
from .oracle import purchase_value_mean
from .params import Calendar, calendar_of, category_taste, pick, random_stream
from .schema import GA4_EVENT_SCHEMA
from .taste import apply_taste, draw_favourites, price_means, taste_truth
from .users import VisitRates, simulate_users
from .vocabulary import (
    BROWSE,
    CHECKOUT,
    DIURNAL_UTC,
    ENGAGED_SECONDS,
    EVENT_NAMES,
    FUNNEL_STEPS,
    LANDING,
    MAIN_EVENT_BY_PAGE,
    MICROS,
    N_SLOTS,
    PRODUCT,
    SECONDARY_EVENT_BY_PAGE,
    SECONDS_PER_DAY,
    STREAM_ID,
    TRAFFIC_SOURCES,
    event_code,
)

USER_SESSION_COLUMNS = (
    *(f"step_prob_{step}" for step in FUNNEL_STEPS),
    "browse_pages_mean",
    "product_pages_mean",
    "dwell_seconds_median",
    "traffic_source",
)


@dataclass(frozen=True)
class SessionPlan:
    """Every session of the window, sorted by day then user then start time."""

    user: np.ndarray  # row in the users table
    day: np.ndarray
    start_second: np.ndarray  # seconds after midnight UTC
    max_duration: np.ndarray  # seconds until the user's next session or midnight
    number: np.ndarray  # ga_session_number
    day_offsets: np.ndarray  # sessions of day d are rows day_offsets[d]:day_offsets[d + 1]


def plan_sessions(users: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, SessionPlan]:
    """Draw who visits when: Poisson counts per user-day, start times, session numbers.

    Users without a session inside the window are dropped, and the first-touch timestamp is
    set to the start of each new user's first session. Drawn from its own RNG stream, so
    every day's events can be generated later, independently.
    """
    calendar = calendar_of(params)
    rng = random_stream(params["seed"], "plan")
    n = len(users)
    rates = VisitRates.of(users)
    first_touch_day = users["first_touch_day"].to_numpy()

    session_user, session_day, rank, count = [], [], [], []
    for day in range(calendar.n_days):
        active = np.flatnonzero(first_touch_day <= day)
        weekday = np.full(active.size, calendar.weekday(day))
        age = day - first_touch_day[active]
        rate = rates.daily(active, weekday, age)
        sessions = rng.poisson(rate) + (age == 0)  # the first-touch session itself
        visiting = sessions > 0
        per_user = sessions[visiting]
        session_user.append(np.repeat(active[visiting], per_user))
        session_day.append(np.full(per_user.sum(), day))
        starts = np.cumsum(per_user) - per_user
        rank.append(np.arange(per_user.sum()) - np.repeat(starts, per_user))
        count.append(np.repeat(per_user, per_user))
    session_user = np.concatenate(session_user)
    session_day = np.concatenate(session_day)
    rank, count = np.concatenate(rank), np.concatenate(count)

    # Start times: one session spreads over the day's traffic curve; k sessions of a user on
    # one day each take one k-th of the day, so they never overlap.
    hour = pick(rng, DIURNAL_UTC, session_user.size)
    single = hour * 3600 + rng.random(session_user.size) * 3600
    segment = SECONDS_PER_DAY / count
    multiple = (rank + 0.75 * rng.random(session_user.size)) * segment
    start_second = np.minimum(np.where(count == 1, single, multiple), SECONDS_PER_DAY - 60)
    start_second = start_second.astype(np.int64)
    next_start = np.where(
        rank < count - 1, np.roll(start_second, -1), SECONDS_PER_DAY
    )  # the next row is the same user's next session when rank < count - 1
    max_duration = np.maximum(next_start - start_second - 1, 1)

    # Session numbers continue the sessions users had before the window.
    age_at_start = -np.minimum(first_touch_day, 0)  # days between first touch and day 0
    persistent = rates.persistent
    leave_per_day = np.exp(-1 / rates.lifetime_days)  # 1 when users never leave
    decay_per_day = np.exp(-1 / rates.decay_days) * leave_per_day
    sessions_before = (
        rates.base
        * rates.weekday_multiplier.mean(axis=1)
        * (
            persistent * geometric_sum(leave_per_day, age_at_start)
            + (1 - persistent) * geometric_sum(decay_per_day, age_at_start)
        )
    )
    prior_sessions = np.where(first_touch_day < 0, 1 + rng.poisson(sessions_before), 0)
    order = np.lexsort((rank, session_day, session_user))
    sorted_user = session_user[order]
    first_of_user = np.searchsorted(sorted_user, sorted_user, "left")
    number = np.empty(session_user.size, dtype=np.int64)
    number[order] = prior_sessions[sorted_user] + 1 + np.arange(sorted_user.size) - first_of_user

    # First touch of new users = start of their first session; before the window: any time.
    first_touch_second = rng.integers(0, SECONDS_PER_DAY, size=n)
    first_session = number == 1
    first_touch_second[session_user[first_session]] = start_second[first_session]
    first_touch_timestamp = (calendar.epoch_seconds(first_touch_day) + first_touch_second) * MICROS

    seen = np.bincount(session_user, minlength=n) > 0
    new_row = np.cumsum(seen) - 1
    kept = users.loc[seen].reset_index(drop=True)
    kept.insert(1, "user_first_touch_timestamp", first_touch_timestamp[seen])
    day_offsets = np.searchsorted(session_day, np.arange(calendar.n_days + 1), "left")
    plan = SessionPlan(
        user=new_row[session_user],
        day=session_day,
        start_second=start_second,
        max_duration=max_duration,
        number=number,
        day_offsets=day_offsets,
    )
    return kept, plan


def geometric_sum(ratio: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """sum(ratio**k for k in range(terms)), ``terms`` when the ratio is 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        partial_sum = (1 - ratio**terms) / (1 - ratio)
    return np.where(ratio == 1, terms, partial_sum)


@dataclass(frozen=True)
class Simulation:
    """Everything a day's events are drawn from; shared by the lazy daily partitions."""

    calendar: Calendar
    seed: int
    session: dict[str, Any]
    users: dict[str, np.ndarray]
    user_columns: dict[str, pa.Array]
    plan: SessionPlan
    site: Site
    favourite: np.ndarray  # favourite category code per users row (``taste.py``)
    taste: float


def build_simulation(params: dict[str, Any]) -> tuple[Simulation, pd.DataFrame]:
    """Users, their session plan and the store: all but the events themselves."""
    users, plan = plan_sessions(simulate_users(params), params)
    site = build_site(int(params["seed"]), int(params["session"]["n_items"]))
    taste = category_taste(params)
    favourite = draw_favourites(int(params["seed"]), len(users), site.n_categories)
    for column, values in taste_truth(site, favourite, taste).items():
        users[column] = values
    # The oracle's expected revenue needs each user's mean purchase value (the store's prices,
    # tilted towards the favourite category by the taste).
    users["purchase_value_mean_usd"] = purchase_value_mean(
        users["product_pages_mean"].to_numpy(),
        price_means(site, favourite, taste),
        float(params["session"]["extra_add_to_cart_mean"]),
        float(params["session"]["extra_quantity_mean"]),
    )
    simulation = Simulation(
        calendar=calendar_of(params),
        seed=int(params["seed"]),
        session=dict(params["session"]),
        users={column: users[column].to_numpy() for column in USER_SESSION_COLUMNS},
        user_columns=user_export_columns(users),
        plan=plan,
        site=site,
        favourite=favourite,
        taste=taste,
    )
    return simulation, users


def day_events(simulation: Simulation, day: int) -> pa.Table:
    """The events of one UTC day as an Arrow table of exactly ``GA4_EVENT_SCHEMA``.

    Sessions walk landing -> browse -> product -> cart -> checkout -> confirmation pages;
    each page fires its events in a fixed slot order, so funnel order and strictly
    increasing timestamps hold within every session.
    """
    plan, site, cfg = simulation.plan, simulation.site, simulation.session
    lo, hi = int(plan.day_offsets[day]), int(plan.day_offsets[day + 1])
    n = hi - lo
    if n == 0:
        return GA4_EVENT_SCHEMA.empty_table()
    rng = random_stream(simulation.seed, "day", day)
    user = plan.user[lo:hi]
    start = simulation.calendar.epoch_seconds(day) + plan.start_second[lo:hi]
    number = plan.number[lo:hi]

    def chance(probability: np.ndarray | float, size: int = n) -> np.ndarray:
        return rng.random(size) < probability

    def step(name: str) -> np.ndarray:
        return simulation.users[f"step_prob_{name}"][user]

    # Session outcomes, independent of every other session (the oracle relies on it).
    viewed = chance(step("view_item"))
    carted = viewed & chance(step("add_to_cart"))
    checkout = carted & chance(step("begin_checkout"))
    shipping = checkout & chance(step("add_shipping_info"))
    payment = shipping & chance(step("add_payment_info"))
    purchase = payment & chance(step("purchase"))
    n_browse = rng.poisson(simulation.users["browse_pages_mean"][user])
    n_product = np.where(viewed, 1 + rng.poisson(simulation.users["product_pages_mean"][user]), 0)
    n_add = np.where(
        carted, np.minimum(1 + rng.poisson(cfg["extra_add_to_cart_mean"], n), n_product), 0
    )
    promo_view = chance(cfg["promotion_view_probability"])
    promo_select = promo_view & chance(cfg["promotion_select_probability"])
    same_source = (number == 1) | chance(cfg["returning_same_source_probability"])
    traffic = np.where(
        same_source,
        simulation.users["traffic_source"][user],
        pick(rng, tuple(source[-1] for source in TRAFFIC_SOURCES), n),
    )

    # Pages, session-major and in walking order.
    page_counts = np.stack(
        [np.ones(n, dtype=np.int64), n_browse, n_product, checkout, shipping, purchase], axis=1
    ).astype(np.int64)
    pages_per_session = page_counts.sum(axis=1)
    n_pages = int(pages_per_session.sum())
    page_type = np.repeat(np.tile(np.arange(6), n), page_counts.ravel())
    ps = np.repeat(np.arange(n), pages_per_session)  # session of each page
    first_page = np.cumsum(pages_per_session) - pages_per_session
    rank = np.arange(n_pages) - first_page[ps]
    # the last n_add product pages of a session add their item to the cart
    adds = (page_type == PRODUCT) & (n_product[ps] - rank + n_browse[ps] < n_add[ps])
    kind = rng.random(n_pages)
    search = (page_type == BROWSE) & (kind < cfg["search_share"])
    listing = (
        (page_type == BROWSE)
        & (kind >= cfg["search_share"])
        & (kind < cfg["search_share"] + cfg["list_share"])
    )
    select = listing & chance(cfg["select_item_probability"], n_pages)
    item = rng.choice(site.item_price.size, size=n_pages, p=site.item_popularity)
    category = rng.integers(0, site.n_categories, size=n_pages)
    item, category = apply_taste(
        simulation.seed, day, site, simulation.favourite[user][ps], simulation.taste, item, category
    )
    page_code = np.select(
        [page_type == LANDING, search, page_type == BROWSE, page_type == PRODUCT],
        [site.home, site.search, 1 + category, site.product(item)],
        default=np.array([0, 0, 0, site.cart, site.checkout, site.confirmation])[page_type],
    )
    dwell = np.clip(
        simulation.users["dwell_seconds_median"][user][ps]
        * np.exp(cfg["dwell_sd"] * rng.standard_normal(n_pages)),
        5.0,
        1800.0,
    )

    # Event slots of each page, then the events in firing order.
    landing = page_type == LANDING
    present = np.stack(
        [
            landing & (number[ps] == 1),
            landing,
            np.ones(n_pages, dtype=bool),
            (landing & promo_view[ps]) | search | listing | (page_type >= PRODUCT),
            (landing & promo_select[ps]) | select | adds | ((page_type == CHECKOUT) & payment[ps]),
            chance(cfg["scroll_probability"], n_pages),
            dwell >= cfg["engagement_event_min_seconds"],  # short views report no engagement
        ],
        axis=1,
    )
    main_by_type = np.array([event_code(name) for name in MAIN_EVENT_BY_PAGE])
    secondary_by_type = np.array([event_code(name) for name in SECONDARY_EVENT_BY_PAGE])
    names = np.stack(
        [
            np.full(n_pages, event_code("first_visit")),
            np.full(n_pages, event_code("session_start")),
            np.full(n_pages, event_code("page_view")),
            np.where(search, event_code("view_search_results"), main_by_type[page_type]),
            secondary_by_type[page_type],
            np.full(n_pages, event_code("scroll")),
            np.full(n_pages, event_code("user_engagement")),
        ],
        axis=1,
    )
    flat = np.flatnonzero(present.ravel())
    ev_page, ev_slot = flat // N_SLOTS, flat % N_SLOTS
    ev_name = names.ravel()[flat]
    es = ps[ev_page]  # session of each event
    n_events = flat.size

    # Timestamps: pages follow each other by their dwell time; a session is squeezed when it
    # would run into the user's next session or past midnight (so event_date is its day).
    slot_offset = np.stack(
        [
            np.zeros(n_pages),
            np.full(n_pages, 0.001),
            np.full(n_pages, 0.002),
            0.05 + 0.9 * rng.random(n_pages),
            dwell * rng.uniform(0.2, 0.5, n_pages),
            dwell * rng.uniform(0.55, 0.9, n_pages),
            dwell,
        ],
        axis=1,
    )
    page_step = dwell + rng.uniform(0.2, 3.0, n_pages)
    before = np.cumsum(page_step) - page_step
    page_start = before - before[first_page][ps]
    last_page = first_page + pages_per_session - 1
    duration = page_start[last_page] + dwell[last_page]
    squeeze = np.minimum(1.0, plan.max_duration[lo:hi] / duration)
    offset = (page_start[ev_page] + slot_offset.ravel()[flat]) * squeeze[es]
    first_event = np.searchsorted(es, np.arange(n))
    event_rank = np.arange(n_events) - first_event[es]
    timestamp = start[es] * MICROS + np.floor(offset * MICROS).astype(np.int64) + event_rank

    engaged = (pages_per_session >= 2) | (dwell[first_page] >= ENGAGED_SECONDS) | purchase
    event_params = build_event_params(
        site,
        page_code,
        page_type,
        traffic,
        start,
        number,
        engaged,
        dwell,
        ev_page,
        ev_slot,
        es,
    )
    items, ecommerce, revenue = build_items_and_ecommerce(
        rng, site, cfg, adds, item, ps, n, ev_name, ev_page, es
    )

    def constant(value: str) -> pa.Array:
        return string_array((value,), np.zeros(n_events, dtype=np.int64))

    event_user = pa.array(user[es])
    user_columns = {
        name: column.take(event_user) for name, column in simulation.user_columns.items()
    }
    is_purchase = ev_name == event_code("purchase")
    columns = {
        "event_date": constant(simulation.calendar.label(day)),
        "event_timestamp": pa.array(timestamp, type=pa.int64()),
        "event_name": string_array(EVENT_NAMES, ev_name),
        "event_params": event_params,
        "event_value_in_usd": pa.array(revenue, mask=~is_purchase, type=pa.float64()),
        "event_bundle_sequence_id": pa.array(rng.integers(10**5, 2 * 10**9, n_events)),
        "event_server_timestamp_offset": pa.array(rng.integers(10**5, 3 * 10**6, n_events)),
        "privacy_info": struct_array(
            GA4_EVENT_SCHEMA.field("privacy_info").type,
            {"uses_transient_token": constant("No")},
            n_events,
        ),
        "user_properties": pa.ListArray.from_arrays(
            pa.array(np.zeros(n_events + 1, dtype=np.int32)),
            pa.array([], type=GA4_EVENT_SCHEMA.field("user_properties").type.value_type),
            type=GA4_EVENT_SCHEMA.field("user_properties").type,
        ),
        "stream_id": pa.array(np.full(n_events, STREAM_ID, dtype=np.int64)),
        "platform": constant("WEB"),
        "ecommerce": ecommerce,
        "items": items,
        **user_columns,
    }
    arrays = [columns.get(f.name, pa.nulls(n_events, f.type)) for f in GA4_EVENT_SCHEMA]
    table = pa.Table.from_arrays(arrays, schema=GA4_EVENT_SCHEMA)
    return table.take(pa.array(np.argsort(timestamp, kind="stable")))

"""Simulate a GA4 e-commerce export whose true purchase probabilities are known exactly.

The generative model (all rates per UTC day):

* every user has static latent parameters (intent, engagement style, a visit rate and
  per-step funnel probabilities) and becomes active on the day of their first touch;
* sessions on day ``d`` are Poisson with rate
  ``rate(d) = base_sessions_per_day * weekday[d] * (persistent + (1 - persistent) *
  exp(-(d - first_touch_day) / decay_days))`` from the first-touch day on (zero before),
  plus the first-touch session itself on that day;
* within a session the funnel outcomes are drawn independently of every other session.

So the sessions with a target event are a thinned Poisson process and
``P(target in window) = 1 - exp(-q * sum(rate(d) for d in window)) * (1 - q)^[first touch
in window]`` exactly, where ``q`` is the per-session probability of the target event:
``oracle_probabilities`` computes it from ``ga4_user_truth``.

Planted signal: intent raises both the visit rate and every funnel step (saturating above
``users.intent_saturation``) and shows in the observable dwell time and pages per session;
device, first-touch medium (with a device x medium interaction), country and a
non-monotone engagement term shift the add-to-cart step; the rate decays after the first
touch, so recency and tenure matter.

The session plan (who visits on which day, when, with which session number) is drawn once
from the seed; the events of each day come from their own RNG ``(seed, day)``, so the
daily partitions are built lazily, one at a time, and memory stays bounded at any scale.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa

from ga4_mlops.checks import require_columns

from .schema import GA4_EVENT_SCHEMA, ITEM, KEY_VALUE_LIST

logger = logging.getLogger(__name__)

SECONDS_PER_DAY = 86_400
ENGAGED_SECONDS = 10  # GA4: a session is engaged after 10 s, 2 page views or a conversion
MICROS = 1_000_000
STREAM_ID = 2_100_450_278
SITE = "https://shop.googlemerchandisestore.com"
DEVICE_CATEGORIES = ("desktop", "mobile", "tablet")
MEDIUMS = ("organic", "(none)", "referral", "cpc", "<Other>", "(data deleted)")
TARGET_EVENTS = ("purchase", "add_to_cart")
FUNNEL_STEPS = (
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "add_shipping_info",
    "add_payment_info",
    "purchase",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_COLUMNS = tuple(f"rate_multiplier_{day}" for day in WEEKDAYS)

# ---------------------------------------------------------------------------------------
# Vocabularies: values as they appear in the public GA4 sample (placeholders included).
# ---------------------------------------------------------------------------------------

# (category, operating_system, operating_system_version, mobile_brand_name,
#  mobile_model_name, browser, browser_version, share within the category)
DEVICE_PROFILES = (
    ("desktop", "Windows", "Windows 10", "Microsoft", "Chrome", "Chrome", "87.0", 0.30),
    ("desktop", "Windows", "<Other>", "<Other>", "Edge", "Edge", "87.0", 0.06),
    ("desktop", "Windows", "Windows 10", "<Other>", "Firefox", "Firefox", "84.0", 0.04),
    ("desktop", "Macintosh", "Macintosh Intel 10.15", "Apple", "Chrome", "Chrome", "87.0", 0.22),
    ("desktop", "Macintosh", "Macintosh Intel 10.15", "Apple", "Safari", "Safari", "14.0", 0.12),
    ("desktop", "Linux", "<Other>", "<Other>", "Chrome", "Chrome", "87.0", 0.08),
    ("desktop", "Chrome OS", "<Other>", "Google", "Chrome", "Chrome", "87.0", 0.08),
    ("desktop", "Web", "(not set)", "(not set)", "(not set)", "<Other>", "<Other>", 0.05),
    ("desktop", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", 0.05),
    ("mobile", "iOS", "iOS 14.2", "Apple", "iPhone", "Safari", "14.0", 0.36),
    ("mobile", "iOS", "iOS 14.3", "Apple", "iPhone", "Chrome", "87.0", 0.16),
    ("mobile", "Android", "Android 10", "Google", "Pixel 4", "Chrome", "87.0", 0.14),
    ("mobile", "Android", "Android 10", "Samsung", "<Other>", "Chrome", "87.0", 0.20),
    ("mobile", "Android", "<Other>", "<Other>", "<Other>", "Samsung Internet", "<Other>", 0.08),
    ("mobile", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", 0.06),
    ("tablet", "iOS", "iOS 14.2", "Apple", "iPad", "Safari", "14.0", 0.65),
    ("tablet", "Android", "<Other>", "Samsung", "<Other>", "Chrome", "87.0", 0.30),
    ("tablet", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", "<Other>", 0.05),
)
LANGUAGES = (("en-us", 0.55), ("en-gb", 0.06), ("en-ca", 0.04), ("zh-cn", 0.04),
             ("es-es", 0.03), ("fr-fr", 0.03), ("de-de", 0.02), ("<Other>", 0.20),
             ("(not set)", 0.03))  # fmt: skip

# (continent, sub_continent, country, region, city, share). Rare places are "<Other>".
GEO_PLACES = (
    ("Americas", "Northern America", "United States", "California", "Mountain View", 0.06),
    ("Americas", "Northern America", "United States", "California", "San Jose", 0.04),
    ("Americas", "Northern America", "United States", "California", "Los Angeles", 0.04),
    ("Americas", "Northern America", "United States", "New York", "New York", 0.06),
    ("Americas", "Northern America", "United States", "Texas", "Dallas", 0.03),
    ("Americas", "Northern America", "United States", "Washington", "Seattle", 0.03),
    ("Americas", "Northern America", "United States", "Illinois", "Chicago", 0.03),
    ("Americas", "Northern America", "United States", "(not set)", "(not set)", 0.09),
    ("Americas", "Northern America", "United States", "<Other>", "<Other>", 0.06),
    ("Americas", "Northern America", "Canada", "Ontario", "Toronto", 0.04),
    ("Americas", "Northern America", "Canada", "(not set)", "(not set)", 0.03),
    ("Asia", "Southern Asia", "India", "Karnataka", "Bengaluru", 0.04),
    ("Asia", "Southern Asia", "India", "(not set)", "(not set)", 0.05),
    ("Europe", "Northern Europe", "United Kingdom", "England", "London", 0.03),
    ("Europe", "Northern Europe", "United Kingdom", "(not set)", "(not set)", 0.02),
    ("Europe", "Western Europe", "France", "(not set)", "(not set)", 0.02),
    ("Europe", "Western Europe", "Germany", "(not set)", "(not set)", 0.02),
    ("Europe", "Southern Europe", "Spain", "Madrid", "Madrid", 0.02),
    ("Europe", "Southern Europe", "Italy", "(not set)", "(not set)", 0.01),
    ("Europe", "Western Europe", "Netherlands", "(not set)", "(not set)", 0.01),
    ("Asia", "Eastern Asia", "Taiwan", "(not set)", "(not set)", 0.02),
    ("Asia", "Eastern Asia", "Japan", "Tokyo", "(data deleted)", 0.02),
    ("Asia", "Eastern Asia", "China", "(not set)", "(not set)", 0.02),
    ("Asia", "South-Eastern Asia", "Singapore", "(not set)", "Singapore", 0.02),
    ("Oceania", "Australasia", "Australia", "(not set)", "(not set)", 0.02),
    ("Americas", "South America", "Brazil", "(not set)", "(not set)", 0.02),
    ("Americas", "Central America", "Mexico", "(not set)", "(not set)", 0.01),
    ("Asia", "Western Asia", "Turkey", "(not set)", "(not set)", 0.02),
    ("Africa", "Western Africa", "Nigeria", "(not set)", "(not set)", 0.01),
    ("(not set)", "(not set)", "(not set)", "(not set)", "(not set)", 0.01),
    ("<Other>", "<Other>", "<Other>", "<Other>", "<Other>", 0.06),
)

# First-touch acquisition (traffic_source.name, .medium, .source, share).
TRAFFIC_SOURCES = (
    ("(organic)", "organic", "google", 0.27),
    ("(organic)", "organic", "<Other>", 0.03),
    ("(direct)", "(none)", "(direct)", 0.22),
    ("(referral)", "referral", "shop.googlemerchandisestore.com", 0.07),
    ("(referral)", "referral", "analytics.google.com", 0.03),
    ("(referral)", "referral", "<Other>", 0.04),
    ("<Other>", "cpc", "google", 0.04),
    ("Data Share Promo", "cpc", "google", 0.01),
    ("<Other>", "<Other>", "<Other>", 0.16),
    ("(data deleted)", "(data deleted)", "(data deleted)", 0.13),
)
REFERRER_BY_SOURCE = {
    "google": "https://www.google.com/",
    "analytics.google.com": "https://analytics.google.com/",
    "shop.googlemerchandisestore.com": "https://shop.googlemerchandisestore.com/",
}
ITEM_CATEGORIES = ("Apparel", "Bags", "Drinkware", "Office", "Lifestyle", "Electronics",
                   "Accessories", "Stationery", "Campus Collection", "New")  # fmt: skip
ITEM_NOUNS = ("Tee", "Hoodie", "Cap", "Backpack", "Tote", "Water Bottle", "Mug", "Notebook",
              "Pen Set", "Sticker Sheet", "Socks", "Beanie", "Charger", "Sunglasses", "Lanyard",
              "Umbrella", "Journal", "Tumbler", "Sweatshirt", "Jacket")  # fmt: skip
ITEM_ADJECTIVES = ("Navy", "Black", "Red", "Green", "Blue", "White", "Speckled", "Classic",
                   "Recycled", "Eco", "Cloud", "Android", "YouTube", "Chrome Dino", "Campus",
                   "Striped", "Heathered", "Vintage", "Super G", "Bold")  # fmt: skip

# Event names (codes are positions in this tuple).
EVENT_NAMES = (
    "first_visit",
    "session_start",
    "page_view",
    "view_promotion",
    "select_promotion",
    "view_item_list",
    "select_item",
    "view_search_results",
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "add_shipping_info",
    "add_payment_info",
    "purchase",
    "scroll",
    "user_engagement",
)
EVENT_CODE = {name: code for code, name in enumerate(EVENT_NAMES)}
SINGLE_ITEM_EVENTS = ("view_item", "select_item", "add_to_cart")
CART_EVENTS = ("begin_checkout", "add_shipping_info", "add_payment_info", "purchase")

# Pages of a session, in the order a session walks through them.
LANDING, BROWSE, PRODUCT, CART, CHECKOUT, CONFIRMATION = range(6)
# Event slots of a page, in firing order.
SLOT_FIRST_VISIT, SLOT_SESSION_START, SLOT_PAGE_VIEW, SLOT_MAIN, SLOT_SECONDARY = range(5)
SLOT_SCROLL, SLOT_ENGAGEMENT = 5, 6
N_SLOTS = 7
# The event a page type fires after its page_view, and the optional one after that
# ("page_view" where a page has none: the slot is never present there).
MAIN_EVENT_BY_PAGE = ("view_promotion", "view_item_list", "view_item", "begin_checkout",
                      "add_shipping_info", "purchase")  # fmt: skip
SECONDARY_EVENT_BY_PAGE = ("select_promotion", "select_item", "add_to_cart", "page_view",
                           "add_payment_info", "page_view")  # fmt: skip
PARAM_KEYS = (
    "ga_session_id",
    "ga_session_number",
    "page_location",
    "page_title",
    "page_referrer",
    "entrances",
    "source",
    "medium",
    "campaign",
    "session_engaged",
    "engagement_time_msec",
    "percent_scrolled",
)
STRING_PARAMS = {"page_location", "page_title", "page_referrer", "source", "medium",
                 "campaign", "session_engaged"}  # fmt: skip


DEVICE_CATEGORY_SHARES = (0.57, 0.40, 0.03)
# Share of single-session starts per UTC hour: the store's visitors are mostly American.
DIURNAL_UTC = (4, 3, 2, 2, 2, 2, 2, 2, 2, 3, 3, 4, 4, 5, 6, 7, 7, 7, 7, 6, 6, 5, 5, 5)
TRAFFIC_MEDIUM = tuple(MEDIUMS.index(medium) for _, medium, _, _ in TRAFFIC_SOURCES)
PARAMETER_GROUPS = ("users", "visits", "funnel", "session")
N_RANDOM_STREAMS = {"users": 0, "plan": 1, "day": 2, "catalogue": 3}


# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """The simulated days: day index 0 is ``start_date``, days are UTC."""

    start: np.datetime64
    n_days: int

    def weekday(self, day: np.ndarray | int) -> np.ndarray:
        """Monday = 0, like ``datetime.date.weekday``."""
        return _weekday(self.start + np.asarray(day, dtype="timedelta64[D]"))

    def epoch_seconds(self, day: np.ndarray | int) -> np.ndarray:
        start = self.start.astype("datetime64[s]").astype(np.int64)
        return start + np.asarray(day, dtype=np.int64) * SECONDS_PER_DAY

    def label(self, day: int) -> str:
        return str(self.start + np.timedelta64(day, "D")).replace("-", "")


def _weekday(dates: np.ndarray) -> np.ndarray:
    """Monday = 0 for ``datetime64[D]`` values (1970-01-01 was a Thursday)."""
    return (np.asarray(dates, dtype="datetime64[D]").astype(np.int64) + 3) % 7


def _fail(message: str) -> NoReturn:
    raise ValueError(f"params data_generation: {message}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _calendar(params: dict[str, Any]) -> Calendar:
    start = params.get("start_date")
    try:
        start_date = dt.date.fromisoformat(str(start))
    except ValueError:
        _fail(f"start_date must be a date written YYYY-MM-DD, got {start!r}")
    n_days = params.get("n_days")
    if not _is_int(n_days) or n_days < 1:
        _fail(f"n_days must be an integer >= 1, got {n_days!r}")
    return Calendar(np.datetime64(start_date, "D"), int(n_days))


def _n_users(params: dict[str, Any]) -> int:
    """The simulated population: ``n_users * scale`` (users never seen are dropped later)."""
    scale, n_users = params.get("scale", 1.0), params.get("n_users")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        _fail(f"scale must be a number > 0, got {scale!r}")
    if not _is_int(n_users) or n_users < 1:
        _fail(f"n_users must be an integer >= 1, got {n_users!r}")
    return max(1, round(n_users * scale))


def _check_effects(effects: dict[str, Any], known: tuple[str, ...], name: str) -> None:
    unknown = set(effects) - set(known)
    if unknown:
        _fail(f"{name} has unknown key(s) {sorted(unknown)}; expected some of {list(known)}")


def _check_params(params: dict[str, Any]) -> None:
    """Fail before any work on values the model cannot use."""
    seed = params.get("seed")
    if not _is_int(seed) or seed < 0:
        _fail(f"seed must be an integer >= 0, got {seed!r}")
    missing = [group for group in PARAMETER_GROUPS if not isinstance(params.get(group), dict)]
    if missing:
        _fail(f"lacks the group(s) {missing} (see conf/base/parameters_data_generation.yml)")
    users, visits, funnel = params["users"], params["visits"], params["funnel"]
    if not 0 <= users["pre_window_share"] < 1:
        _fail(f"users.pre_window_share must be in [0, 1), got {users['pre_window_share']!r}")
    if users["pre_window_max_days"] < 1:
        _fail(f"users.pre_window_max_days must be >= 1, got {users['pre_window_max_days']!r}")
    if not -1 <= users["intent_engagement_correlation"] <= 1:
        _fail("users.intent_engagement_correlation must be in [-1, 1]")
    if visits["base_sessions_per_day"] <= 0:
        _fail(f"visits.base_sessions_per_day must be > 0, got {visits['base_sessions_per_day']!r}")
    if not 0 <= visits["persistent_share"] <= 1:
        _fail(f"visits.persistent_share must be in [0, 1], got {visits['persistent_share']!r}")
    if visits["decay_days"] <= 0:
        _fail(f"visits.decay_days must be > 0, got {visits['decay_days']!r}")
    for group, name in (
        ("visits", "weekday_multipliers"),
        ("users", "arrival_weekday_multipliers"),
    ):
        values = params[group][name]
        if len(values) != 7 or min(values) < 0 or max(values) <= 0:
            _fail(f"{group}.{name} must be 7 numbers >= 0 (Monday first), got {values!r}")
    if set(funnel["steps"]) != set(FUNNEL_STEPS):
        _fail(f"funnel.steps must have exactly the keys {list(FUNNEL_STEPS)}")
    _check_effects(visits["device_effects"], DEVICE_CATEGORIES, "visits.device_effects")
    _check_effects(visits["medium_effects"], MEDIUMS, "visits.medium_effects")
    effects = funnel["cart_effects"]
    _check_effects(effects["device"], DEVICE_CATEGORIES, "funnel.cart_effects.device")
    _check_effects(effects["medium"], MEDIUMS, "funnel.cart_effects.medium")
    _check_effects(
        effects["device_x_medium"], DEVICE_CATEGORIES, "funnel.cart_effects.device_x_medium"
    )
    for device, by_medium in effects["device_x_medium"].items():
        _check_effects(by_medium, MEDIUMS, f"funnel.cart_effects.device_x_medium.{device}")
    countries = tuple(sorted({place[2] for place in GEO_PLACES}))
    _check_effects(effects["country"], countries, "funnel.cart_effects.country")


def _rng(seed: int, stream: str, *index: int) -> np.random.Generator:
    """Independent streams: users, the session plan, each day's events, the catalogue."""
    return np.random.default_rng([seed, N_RANDOM_STREAMS[stream], *index])


def _pick(
    rng: np.random.Generator, weights: tuple[float, ...] | np.ndarray, size: int
) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _lookup(effects: dict[str, float], names: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    return np.array([float(effects.get(name, 0.0)) for name in names])[codes]


# ---------------------------------------------------------------------------------------
# Users and their session plan
# ---------------------------------------------------------------------------------------


def simulate_users(params: dict[str, Any]) -> pd.DataFrame:
    """Draw every user's static attributes and latent behaviour.

    Returns one row per simulated user (including users who never visit inside the
    window: ``plan_sessions`` drops them). Attribute columns hold codes into the
    vocabularies above; latent columns are what the oracle needs.
    """
    _check_params(params)
    calendar = _calendar(params)
    n = _n_users(params)
    rng = _rng(params["seed"], "users")
    users_cfg, visits, funnel = params["users"], params["visits"], params["funnel"]

    # First touch: some users were acquired before the window (returning customers).
    day_weights = np.asarray(users_cfg["arrival_weekday_multipliers"], float)[
        calendar.weekday(np.arange(calendar.n_days))
    ]
    days = calendar.start + np.arange(calendar.n_days).astype("timedelta64[D]")
    for boost in users_cfg.get("arrival_boosts", []):
        inside = (days >= np.datetime64(boost["start"])) & (days < np.datetime64(boost["end"]))
        day_weights = np.where(inside, day_weights * boost["multiplier"], day_weights)
    pre_window = rng.random(n) < users_cfg["pre_window_share"]
    first_touch_day = np.where(
        pre_window,
        -rng.integers(1, users_cfg["pre_window_max_days"] + 1, size=n),
        _pick(rng, day_weights, n),
    )

    device_category = _pick(rng, DEVICE_CATEGORY_SHARES, n)
    device_profile = np.empty(n, dtype=np.int64)
    for category_code, category in enumerate(DEVICE_CATEGORIES):
        rows = np.flatnonzero(device_category == category_code)
        profiles = [i for i, profile in enumerate(DEVICE_PROFILES) if profile[0] == category]
        shares = [DEVICE_PROFILES[i][-1] for i in profiles]
        device_profile[rows] = np.asarray(profiles)[_pick(rng, shares, rows.size)]
    language = _pick(rng, tuple(share for _, share in LANGUAGES), n)
    geo_place = _pick(rng, tuple(place[-1] for place in GEO_PLACES), n)
    traffic_source = _pick(rng, tuple(source[-1] for source in TRAFFIC_SOURCES), n)
    medium = np.asarray(TRAFFIC_MEDIUM)[traffic_source]
    country_names = tuple(place[2] for place in GEO_PLACES)

    # Latent intent and engagement style (correlated), and idiosyncratic visit frequency.
    intent = rng.standard_normal(n)
    rho = users_cfg["intent_engagement_correlation"]
    engagement = rho * intent + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    capped_intent = np.minimum(intent, users_cfg["intent_saturation"])
    log_rate = (
        np.log(visits["base_sessions_per_day"])
        + visits["intent_effect"] * capped_intent
        + _lookup(visits["device_effects"], DEVICE_CATEGORIES, device_category)
        + _lookup(visits["medium_effects"], MEDIUMS, medium)
        + visits["idiosyncratic_sd"] * rng.standard_normal(n)
    )

    effects = funnel["cart_effects"]
    interaction = np.array(
        [
            [float(effects["device_x_medium"].get(d, {}).get(m, 0.0)) for m in MEDIUMS]
            for d in DEVICE_CATEGORIES
        ]
    )
    cart_shift = (
        _lookup(effects["device"], DEVICE_CATEGORIES, device_category)
        + _lookup(effects["medium"], MEDIUMS, medium)
        + interaction[device_category, medium]
        + _lookup(effects["country"], country_names, geo_place)
        # Non-monotone: users who linger far longer than usual are browsing, not buying.
        - effects["engagement_curvature"] * (engagement - effects["engagement_peak"]) ** 2
    )
    step_probability = {}
    for step in FUNNEL_STEPS:
        cfg = funnel["steps"][step]
        logit = cfg["intercept"] + cfg["intent_slope"] * capped_intent
        if step == "add_to_cart":
            logit = logit + cart_shift
        step_probability[step] = _sigmoid(logit)
    session_prob_add_to_cart = step_probability["view_item"] * step_probability["add_to_cart"]
    session_prob_purchase = session_prob_add_to_cart * np.prod(
        [step_probability[step] for step in FUNNEL_STEPS[2:]], axis=0
    )

    session = params["session"]
    first_touch_date = calendar.start + first_touch_day.astype("timedelta64[D]")
    users = pd.DataFrame(
        {
            "user_pseudo_id": _pseudo_ids(rng, n),
            "first_touch_date": first_touch_date.astype("datetime64[ns]"),
            "first_touch_day": first_touch_day.astype(np.int64),
            "device_profile": device_profile,
            "language": language,
            "geo_place": geo_place,
            "traffic_source": traffic_source,
            "intent": intent,
            "engagement": engagement,
            "sessions_per_day_base": np.exp(log_rate),
            "rate_persistent_share": float(visits["persistent_share"]),
            "rate_decay_days": float(visits["decay_days"]),
            **{
                column: float(multiplier)
                for column, multiplier in zip(
                    WEEKDAY_COLUMNS, visits["weekday_multipliers"], strict=True
                )
            },
            **{f"step_prob_{step}": step_probability[step] for step in FUNNEL_STEPS},
            "session_prob_add_to_cart": session_prob_add_to_cart,
            "session_prob_purchase": session_prob_purchase,
            "browse_pages_mean": session["browse_pages_mean"]
            * np.exp(session["browse_engagement_effect"] * engagement),
            "product_pages_mean": session["product_pages_mean"]
            * np.exp(session["product_intent_effect"] * intent),
            "dwell_seconds_median": session["dwell_seconds_median"]
            * np.exp(session["dwell_engagement_effect"] * engagement),
        }
    )
    return users


def _pseudo_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique GA4-like client ids "<random>.<10 digits>": strings, some digits start with 0."""
    random_part = rng.integers(100_000, 2**31, size=n)
    second_part = rng.integers(0, 10**10, size=n)
    while True:
        _, first_index = np.unique(
            np.stack([random_part, second_part], axis=1), axis=0, return_index=True
        )
        duplicate = np.ones(n, dtype=bool)
        duplicate[first_index] = False
        if not duplicate.any():
            break
        second_part[duplicate] = rng.integers(0, 10**10, size=int(duplicate.sum()))
    return np.array(
        [f"{a}.{b:010d}" for a, b in zip(random_part.tolist(), second_part.tolist(), strict=True)],
        dtype=object,
    )


@dataclass(frozen=True)
class VisitRates:
    """The latent visit-rate parameters of a users table, as arrays."""

    base: np.ndarray
    persistent: np.ndarray
    decay_days: np.ndarray
    weekday_multiplier: np.ndarray  # (n_users, 7), Monday first

    @classmethod
    def of(cls, users: pd.DataFrame) -> VisitRates:
        return cls(
            base=users["sessions_per_day_base"].to_numpy(dtype=float),
            persistent=users["rate_persistent_share"].to_numpy(dtype=float),
            decay_days=users["rate_decay_days"].to_numpy(dtype=float),
            weekday_multiplier=users[list(WEEKDAY_COLUMNS)].to_numpy(dtype=float),
        )

    def daily(self, rows: np.ndarray, weekday: np.ndarray, age_days: np.ndarray) -> np.ndarray:
        """Expected sessions of users ``rows`` on a day: zero before their first touch."""
        persistent = self.persistent[rows]
        decay = np.exp(-np.maximum(age_days, 0) / self.decay_days[rows])
        rate = (
            self.base[rows]
            * self.weekday_multiplier[rows, weekday]
            * (persistent + (1 - persistent) * decay)
        )
        return np.where(age_days >= 0, rate, 0.0)


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
    calendar = _calendar(params)
    rng = _rng(params["seed"], "plan")
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
    hour = _pick(rng, DIURNAL_UTC, session_user.size)
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
    decay_per_day = np.exp(-1 / rates.decay_days)
    sessions_before = (
        rates.base
        * rates.weekday_multiplier.mean(axis=1)
        * (
            persistent * age_at_start
            + (1 - persistent) * (1 - decay_per_day**age_at_start) / (1 - decay_per_day)
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


# ---------------------------------------------------------------------------------------
# The store: pages, items and every string an event parameter can hold
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """Page and item vocabularies; string parameters are codes into ``strings``."""

    strings: pa.Array
    page_location: np.ndarray  # code into strings, per page
    page_title: np.ndarray
    n_categories: int
    item_id: pa.Array
    item_name: pa.Array
    item_category: pa.Array
    item_price: np.ndarray
    item_popularity: np.ndarray
    traffic_source: np.ndarray  # code into strings, per TRAFFIC_SOURCES row
    traffic_medium: np.ndarray
    traffic_campaign: np.ndarray
    traffic_referrer: np.ndarray  # -1: no referrer (direct, data deleted, ...)
    engaged: tuple[int, int]  # codes of "0" and "1"

    @property
    def home(self) -> int:
        return 0

    @property
    def search(self) -> int:
        return self.n_categories + 1

    @property
    def cart(self) -> int:
        return self.n_categories + 2

    @property
    def checkout(self) -> int:
        return self.n_categories + 3

    @property
    def confirmation(self) -> int:
        return self.n_categories + 4

    def product(self, item: np.ndarray) -> np.ndarray:
        return self.n_categories + 5 + item


def build_site(seed: int, n_items: int) -> Site:
    """A Google-Merchandise-Store-like catalogue, fixed by the seed."""
    rng = _rng(seed, "catalogue")
    category = rng.integers(0, len(ITEM_CATEGORIES), size=n_items)
    adjective = rng.integers(0, len(ITEM_ADJECTIVES), size=n_items)
    noun = rng.integers(0, len(ITEM_NOUNS), size=n_items)
    names = [
        f"Google {ITEM_ADJECTIVES[a]} {ITEM_NOUNS[b]}"
        for a, b in zip(adjective.tolist(), noun.tolist(), strict=True)
    ]
    ids = [f"GGOE{ITEM_CATEGORIES[c][:2].upper()}{i:05d}" for i, c in enumerate(category.tolist())]
    price = np.round(np.exp(rng.normal(np.log(18.0), 0.7, size=n_items)), 2) + 0.99
    popularity = 1.0 / (rng.permutation(n_items) + 5.0) ** 1.1

    strings: dict[str, int] = {}

    def code(value: str) -> int:
        return strings.setdefault(value, len(strings))

    engaged = (code("0"), code("1"))
    pages = [(f"{SITE}/", "Home")]
    pages += [
        (f"{SITE}/Google+Redesign/{c.replace(' ', '+')}", f"{c} | Google Merchandise Store")
        for c in ITEM_CATEGORIES
    ]
    pages += [
        (f"{SITE}/store.html?q=google", "Store search results"),
        (f"{SITE}/basket.html", "Shopping Cart"),
        (f"{SITE}/payment.html", "Checkout Your Information"),
        (f"{SITE}/ordercompleted.html", "Checkout Confirmation"),
    ]
    pages += [
        (
            f"{SITE}/Google+Redesign/{ITEM_CATEGORIES[c].replace(' ', '+')}/"
            f"{name.replace(' ', '+')}",
            name,
        )
        for c, name in zip(category.tolist(), names, strict=True)
    ]
    page_location = np.array([code(location) for location, _ in pages])
    page_title = np.array([code(title) for _, title in pages])
    traffic = np.array(
        [[code(source), code(medium), code(name)] for name, medium, source, _ in TRAFFIC_SOURCES]
    )
    referrer = np.array(
        [
            code(REFERRER_BY_SOURCE[source]) if source in REFERRER_BY_SOURCE else -1
            for _, medium, source, _ in TRAFFIC_SOURCES
        ]
    )
    return Site(
        strings=pa.array(list(strings), type=pa.string()),
        page_location=page_location,
        page_title=page_title,
        n_categories=len(ITEM_CATEGORIES),
        item_id=pa.array(ids, type=pa.string()),
        item_name=pa.array(names, type=pa.string()),
        item_category=pa.array([ITEM_CATEGORIES[c] for c in category.tolist()], pa.string()),
        item_price=price,
        item_popularity=popularity / popularity.sum(),
        traffic_source=traffic[:, 0],
        traffic_medium=traffic[:, 1],
        traffic_campaign=traffic[:, 2],
        traffic_referrer=referrer,
        engaged=engaged,
    )


# ---------------------------------------------------------------------------------------
# Arrow building blocks
# ---------------------------------------------------------------------------------------


def _strings(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    return pa.array(list(values), type=pa.string()).take(pa.array(codes))


def _struct(
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


def _user_columns(users: pd.DataFrame) -> dict[str, pa.Array]:
    """User-level export columns, built once and taken per event."""
    n = len(users)
    profile = users["device_profile"].to_numpy()
    columns = list(zip(*DEVICE_PROFILES, strict=True))
    device_type = GA4_EVENT_SCHEMA.field("device").type
    web_info = _struct(
        device_type.field("web_info").type,
        {
            "browser": _strings(columns[5], profile),
            "browser_version": _strings(columns[6], profile),
        },
        n,
    )
    device = _struct(
        device_type,
        {
            "category": _strings(columns[0], profile),
            "mobile_brand_name": _strings(columns[3], profile),
            "mobile_model_name": _strings(columns[4], profile),
            "mobile_marketing_name": _strings(("<Other>",), np.zeros(n, dtype=np.int64)),
            "operating_system": _strings(columns[1], profile),
            "operating_system_version": _strings(columns[2], profile),
            "language": _strings([lang for lang, _ in LANGUAGES], users["language"].to_numpy()),
            "is_limited_ad_tracking": _strings(("No",), np.zeros(n, dtype=np.int64)),
            "web_info": web_info,
        },
        n,
    )
    place = users["geo_place"].to_numpy()
    geo_columns = list(zip(*GEO_PLACES, strict=True))
    geo = _struct(
        GA4_EVENT_SCHEMA.field("geo").type,
        {
            name: _strings(geo_columns[i], place)
            for i, name in enumerate(("continent", "sub_continent", "country", "region", "city"))
        }
        | {"metro": _strings(("(not set)",), np.zeros(n, dtype=np.int64))},
        n,
    )
    source = users["traffic_source"].to_numpy()
    traffic_columns = list(zip(*TRAFFIC_SOURCES, strict=True))
    traffic = _struct(
        GA4_EVENT_SCHEMA.field("traffic_source").type,
        {
            "name": _strings(traffic_columns[0], source),
            "medium": _strings(traffic_columns[1], source),
            "source": _strings(traffic_columns[2], source),
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


# ---------------------------------------------------------------------------------------
# One day of events
# ---------------------------------------------------------------------------------------

USER_SESSION_COLUMNS = (
    *(f"step_prob_{step}" for step in FUNNEL_STEPS),
    "browse_pages_mean",
    "product_pages_mean",
    "dwell_seconds_median",
    "traffic_source",
)
ORACLE_COLUMNS = (
    "user_pseudo_id",
    "first_touch_date",
    "sessions_per_day_base",
    "rate_persistent_share",
    "rate_decay_days",
    *WEEKDAY_COLUMNS,
)
TRUTH_COLUMNS = (
    "user_pseudo_id",
    "user_first_touch_timestamp",
    "first_touch_date",
    "intent",
    "engagement",
    "sessions_per_day_base",
    "rate_persistent_share",
    "rate_decay_days",
    *WEEKDAY_COLUMNS,
    *(f"step_prob_{step}" for step in FUNNEL_STEPS),
    "session_prob_add_to_cart",
    "session_prob_purchase",
)


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


def build_simulation(params: dict[str, Any]) -> tuple[Simulation, pd.DataFrame]:
    """Users, their session plan and the store: all but the events themselves."""
    users, plan = plan_sessions(simulate_users(params), params)
    simulation = Simulation(
        calendar=_calendar(params),
        seed=int(params["seed"]),
        session=dict(params["session"]),
        users={column: users[column].to_numpy() for column in USER_SESSION_COLUMNS},
        user_columns=_user_columns(users),
        plan=plan,
        site=build_site(int(params["seed"]), int(params["session"]["n_items"])),
    )
    return simulation, users


def _code(name: str) -> int:
    return EVENT_CODE[name]


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
    rng = _rng(simulation.seed, "day", day)
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
        _pick(rng, tuple(source[-1] for source in TRAFFIC_SOURCES), n),
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
    main_by_type = np.array([_code(name) for name in MAIN_EVENT_BY_PAGE])
    secondary_by_type = np.array([_code(name) for name in SECONDARY_EVENT_BY_PAGE])
    names = np.stack(
        [
            np.full(n_pages, _code("first_visit")),
            np.full(n_pages, _code("session_start")),
            np.full(n_pages, _code("page_view")),
            np.where(search, _code("view_search_results"), main_by_type[page_type]),
            secondary_by_type[page_type],
            np.full(n_pages, _code("scroll")),
            np.full(n_pages, _code("user_engagement")),
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
    event_params = _event_params(
        simulation,
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
    items, ecommerce, revenue = _items_and_ecommerce(
        rng, site, cfg, adds, item, ps, n, ev_name, ev_page, es
    )

    def constant(value: str) -> pa.Array:
        return _strings((value,), np.zeros(n_events, dtype=np.int64))

    event_user = pa.array(user[es])
    user_columns = {
        name: column.take(event_user) for name, column in simulation.user_columns.items()
    }
    is_purchase = ev_name == _code("purchase")
    columns = {
        "event_date": constant(simulation.calendar.label(day)),
        "event_timestamp": pa.array(timestamp, type=pa.int64()),
        "event_name": _strings(EVENT_NAMES, ev_name),
        "event_params": event_params,
        "event_value_in_usd": pa.array(revenue, mask=~is_purchase, type=pa.float64()),
        "event_bundle_sequence_id": pa.array(rng.integers(10**5, 2 * 10**9, n_events)),
        "event_server_timestamp_offset": pa.array(rng.integers(10**5, 3 * 10**6, n_events)),
        "privacy_info": _struct(
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


def _event_params(
    simulation: Simulation,
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
    site = simulation.site
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
    value = _struct(
        entry_type.field("value").type,
        {"string_value": string_value, "int_value": int_value_array},
        flat.size,
    )
    entries = _struct(
        entry_type, {"key": _strings(PARAM_KEYS, key_index), "value": value}, flat.size
    )
    offsets = np.concatenate([[0], np.cumsum(has.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), entries, type=KEY_VALUE_LIST)


def _items_and_ecommerce(
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

    single = np.isin(ev_name, [_code(e) for e in SINGLE_ITEM_EVENTS])
    cart_event = np.isin(ev_name, [_code(e) for e in CART_EVENTS])
    per_event = np.where(single, 1, np.where(cart_event, cart_size[es], 0))
    offsets = np.concatenate([[0], np.cumsum(per_event)])
    owner = np.repeat(np.arange(n_events), per_event)
    position = np.arange(owner.size) - offsets[owner]
    item = np.empty(owner.size, dtype=np.int64)
    quantity = np.ones(owner.size, dtype=np.int64)
    from_page = single[owner]
    item[from_page] = page_item[ev_page[owner[from_page]]]
    added = from_page & (ev_name[owner] == _code("add_to_cart"))
    quantity[added] = add_quantity[add_of_page[ev_page[owner[added]]]]
    in_cart = cart_start[es[owner[~from_page]]] + position[~from_page]
    item[~from_page] = add_item[in_cart]
    quantity[~from_page] = add_quantity[in_cart]

    price = site.item_price[item]
    sold = ev_name[owner] == _code("purchase")
    item_take = pa.array(item)
    n_items = owner.size

    def constant(value: str) -> pa.Array:
        return _strings((value,), np.zeros(n_items, dtype=np.int64))

    revenue_per_item = pa.array(price * quantity, mask=~sold, type=pa.float64())
    item_struct = _struct(
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

    has_ecommerce = cart_event | (ev_name == _code("add_to_cart"))
    is_purchase = ev_name == _code("purchase")
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
    ecommerce = _struct(
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


# ---------------------------------------------------------------------------------------
# The node and the oracle
# ---------------------------------------------------------------------------------------


def _day_frame(simulation: Simulation, day: int) -> pd.DataFrame:
    """Arrow-backed columns keep the nested GA4 types through ``DataFrame.to_parquet``."""
    return day_events(simulation, day).to_pandas(types_mapper=pd.ArrowDtype)


def generate_ga4_events(
    params: dict[str, Any],
) -> tuple[dict[str, Callable[[], pd.DataFrame]], pd.DataFrame]:
    """Simulate the export: lazy daily partitions ``events_YYYYMMDD`` and the user truth.

    The partitions are callables (PartitionedDataset lazy saving): each day is drawn only
    when it is written, so memory holds one day at a time.
    """
    simulation, users = build_simulation(params)
    calendar = simulation.calendar
    partitions = {
        f"events_{calendar.label(day)}": partial(_day_frame, simulation, day)
        for day in range(calendar.n_days)
    }
    logger.info(
        "Simulated %d users with %d sessions over %d days from %s",
        len(users),
        simulation.plan.user.size,
        calendar.n_days,
        calendar.start,
    )
    return partitions, users.loc[:, list(TRUTH_COLUMNS)]


def oracle_probabilities(
    user_truth: pd.DataFrame, keys: pd.DataFrame, horizon_days: int, target_event: str
) -> pd.Series:
    """The exact probability that each key's user fires ``target_event`` in the horizon.

    For a user with per-session target probability ``q`` and expected sessions ``rate(d)``
    on day ``d``: ``P = 1 - exp(-q * sum(rate(d))) * (1 - q)^[first touch in window]`` over
    the window ``[snapshot_date, snapshot_date + horizon_days)``, the first-touch session
    being the one session that is not part of the Poisson process.
    """
    if target_event not in TARGET_EVENTS:
        raise ValueError(
            f"target_event must be one of {list(TARGET_EVENTS)} for the oracle, "
            f"got {target_event!r}"
        )
    if not _is_int(horizon_days) or horizon_days < 1:
        raise ValueError(f"horizon_days must be an integer >= 1, got {horizon_days!r}")
    probability_column = f"session_prob_{target_event}"
    require_columns(user_truth, (*ORACLE_COLUMNS, probability_column), "ga4_user_truth")
    require_columns(keys, ("user_pseudo_id", "snapshot_date"), "oracle keys")
    truth_ids = pd.Index(user_truth["user_pseudo_id"].astype(str))
    if not truth_ids.is_unique:
        raise ValueError("ga4_user_truth.user_pseudo_id must be unique")
    rows = truth_ids.get_indexer(keys["user_pseudo_id"].astype(str))
    if (rows < 0).any():
        unknown = keys["user_pseudo_id"].astype(str)[rows < 0].unique()[:5].tolist()
        raise ValueError(
            f"oracle keys have {int((rows < 0).sum())} user_pseudo_id(s) missing from "
            f"ga4_user_truth, e.g. {unknown}"
        )
    snapshot = pd.to_datetime(keys["snapshot_date"]).to_numpy().astype("datetime64[D]")
    first_touch = (
        pd.to_datetime(user_truth["first_touch_date"]).to_numpy().astype("datetime64[D]")[rows]
    )
    rates = VisitRates.of(user_truth)
    q = user_truth[probability_column].to_numpy(dtype=float)[rows]
    expected_sessions = np.zeros(len(keys))
    first_touch_inside = np.zeros(len(keys), dtype=bool)
    for offset in range(horizon_days):
        day = snapshot + np.timedelta64(offset, "D")
        age = (day - first_touch).astype(np.int64)
        expected_sessions += rates.daily(rows, _weekday(day), age)
        first_touch_inside |= age == 0
    no_event = np.exp(-q * expected_sessions) * np.where(first_touch_inside, 1 - q, 1.0)
    return pd.Series(1 - no_event, index=keys.index, name=f"oracle_probability_{target_event}")

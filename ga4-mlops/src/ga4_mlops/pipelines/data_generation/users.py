"""Users: static attributes, latent intent and engagement, visit rates and funnel steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .params import (
    calendar_of,
    check_params,
    lookup_effects,
    pick,
    population_size,
    random_stream,
    sigmoid,
)
from .vocabulary import (
    DEVICE_CATEGORIES,
    DEVICE_CATEGORY_SHARES,
    DEVICE_PROFILES,
    FUNNEL_STEPS,
    GEO_PLACES,
    LANGUAGES,
    MEDIUMS,
    TRAFFIC_MEDIUM,
    TRAFFIC_SOURCES,
    WEEKDAY_COLUMNS,
)

SOURCE_SHARES = tuple(source[-1] for source in TRAFFIC_SOURCES)


def simulate_users(params: dict[str, Any]) -> pd.DataFrame:
    """Draw every user's static attributes and latent behaviour.

    Returns one row per simulated user (including users who never visit inside the
    window: ``plan_sessions`` drops them). Attribute columns hold codes into the
    vocabularies above; latent columns are what the oracle needs. With ``drift.start_date``
    set, a cohort of extra users arrives from that day on with another device and traffic
    mix and, optionally, another buying behaviour (its own random stream: the regular
    users are drawn exactly as without drift).
    """
    check_params(params)
    calendar = calendar_of(params)
    n = population_size(params)
    rng = random_stream(params["seed"], "users")
    users_cfg = params["users"]

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
        pick(rng, day_weights, n),
    )
    users = _draw_users(rng, first_touch_day, params, DEVICE_CATEGORY_SHARES, SOURCE_SHARES)
    drift = params.get("drift") or {}
    if not drift.get("start_date"):
        return users
    drift_day = int((np.datetime64(str(drift["start_date"])) - calendar.start).astype(int))
    if not 0 < drift_day < calendar.n_days:
        raise ValueError(
            f"params data_generation: drift.start_date {drift['start_date']} must fall inside "
            f"the simulated days ({calendar.start} + {calendar.n_days} days)"
        )
    # Extra arrivals per day = (arrival_multiplier - 1) x the regular users' arrivals.
    later = np.arange(calendar.n_days) >= drift_day
    n_drifted = round(
        (drift["arrival_multiplier"] - 1)
        * n
        * (1 - users_cfg["pre_window_share"])
        * day_weights[later].sum()
        / day_weights.sum()
    )
    drift_rng = random_stream(params["seed"], "drift")
    drifted_days = np.flatnonzero(later)[pick(drift_rng, day_weights[later], n_drifted)]
    device_shares = np.asarray(DEVICE_CATEGORY_SHARES) * lookup_multipliers(
        drift.get("device_multipliers", {}), DEVICE_CATEGORIES
    )
    source_shares = (
        np.asarray(SOURCE_SHARES)
        * lookup_multipliers(drift.get("medium_multipliers", {}), MEDIUMS)[
            np.asarray(TRAFFIC_MEDIUM)
        ]
    )
    drifted = _draw_users(
        drift_rng,
        drifted_days,
        params,
        tuple(device_shares),
        tuple(source_shares),
        purchase_logit_shift=float(drift.get("purchase_logit_shift", 0.0)),
    )
    drifted = drifted.loc[~drifted["user_pseudo_id"].isin(set(users["user_pseudo_id"]))]
    return pd.concat([users, drifted], ignore_index=True)


def lookup_multipliers(multipliers: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    unknown = set(multipliers) - set(names)
    if unknown:
        raise ValueError(
            f"params data_generation.drift: unknown key(s) {sorted(unknown)}, expected some "
            f"of {list(names)}"
        )
    return np.array([float(multipliers.get(name, 1.0)) for name in names])


def _draw_users(
    rng: np.random.Generator,
    first_touch_day: np.ndarray,
    params: dict[str, Any],
    device_shares: tuple[float, ...],
    source_shares: tuple[float, ...],
    purchase_logit_shift: float = 0.0,
) -> pd.DataFrame:
    """Attributes and latent behaviour of users with the given first-touch days."""
    calendar = calendar_of(params)
    n = first_touch_day.size
    users_cfg, visits, funnel = params["users"], params["visits"], params["funnel"]
    device_category = pick(rng, device_shares, n)
    device_profile = np.empty(n, dtype=np.int64)
    for category_code, category in enumerate(DEVICE_CATEGORIES):
        rows = np.flatnonzero(device_category == category_code)
        profiles = [i for i, profile in enumerate(DEVICE_PROFILES) if profile[0] == category]
        shares = [DEVICE_PROFILES[i][-1] for i in profiles]
        device_profile[rows] = np.asarray(profiles)[pick(rng, shares, rows.size)]
    language = pick(rng, tuple(share for _, share in LANGUAGES), n)
    geo_place = pick(rng, tuple(place[-1] for place in GEO_PLACES), n)
    traffic_source = pick(rng, source_shares, n)
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
        + lookup_effects(visits["device_effects"], DEVICE_CATEGORIES, device_category)
        + lookup_effects(visits["medium_effects"], MEDIUMS, medium)
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
        lookup_effects(effects["device"], DEVICE_CATEGORIES, device_category)
        + lookup_effects(effects["medium"], MEDIUMS, medium)
        + interaction[device_category, medium]
        + lookup_effects(effects["country"], country_names, geo_place)
        # Non-monotone: users who linger far longer than usual are browsing, not buying.
        - effects["engagement_curvature"] * (engagement - effects["engagement_peak"]) ** 2
    )
    step_probability = {}
    for step in FUNNEL_STEPS:
        cfg = funnel["steps"][step]
        logit = cfg["intercept"] + cfg["intent_slope"] * capped_intent
        if step == "add_to_cart":
            logit = logit + cart_shift
        if step == "purchase":
            logit = logit + purchase_logit_shift
        step_probability[step] = sigmoid(logit)
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
            # null: users never leave (the rate stays at its persistent share).
            "rate_lifetime_days": float(visits.get("lifetime_days") or np.inf),
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
    lifetime_days: np.ndarray  # the whole rate fades as exp(-age / lifetime): users leave
    weekday_multiplier: np.ndarray  # (n_users, 7), Monday first

    @classmethod
    def of(cls, users: pd.DataFrame) -> VisitRates:
        return cls(
            base=users["sessions_per_day_base"].to_numpy(dtype=float),
            persistent=users["rate_persistent_share"].to_numpy(dtype=float),
            decay_days=users["rate_decay_days"].to_numpy(dtype=float),
            lifetime_days=users["rate_lifetime_days"].to_numpy(dtype=float),
            weekday_multiplier=users[list(WEEKDAY_COLUMNS)].to_numpy(dtype=float),
        )

    def daily(self, rows: np.ndarray, weekday: np.ndarray, age_days: np.ndarray) -> np.ndarray:
        """Expected sessions of users ``rows`` on a day: zero before their first touch."""
        persistent = self.persistent[rows]
        age = np.maximum(age_days, 0)
        decay = np.exp(-age / self.decay_days[rows])
        rate = (
            self.base[rows]
            * self.weekday_multiplier[rows, weekday]
            * (persistent + (1 - persistent) * decay)
            * np.exp(-age / self.lifetime_days[rows])
        )
        return np.where(age_days >= 0, rate, 0.0)

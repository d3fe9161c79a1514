"""The generator's parameters: checks, the calendar and the seeded random streams."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from .vocabulary import (
    DEVICE_CATEGORIES,
    FUNNEL_STEPS,
    GEO_PLACES,
    MEDIUMS,
    N_RANDOM_STREAMS,
    PARAMETER_GROUPS,
    SECONDS_PER_DAY,
)


@dataclass(frozen=True)
class Calendar:
    """The simulated days: day index 0 is ``start_date``, days are UTC."""

    start: np.datetime64
    n_days: int

    def weekday(self, day: np.ndarray | int) -> np.ndarray:
        """Monday = 0, like ``datetime.date.weekday``."""
        return weekday_of(self.start + np.asarray(day, dtype="timedelta64[D]"))

    def epoch_seconds(self, day: np.ndarray | int) -> np.ndarray:
        start = self.start.astype("datetime64[s]").astype(np.int64)
        return start + np.asarray(day, dtype=np.int64) * SECONDS_PER_DAY

    def label(self, day: int) -> str:
        return str(self.start + np.timedelta64(day, "D")).replace("-", "")


def weekday_of(dates: np.ndarray) -> np.ndarray:
    """Monday = 0 for ``datetime64[D]`` values (1970-01-01 was a Thursday)."""
    return (np.asarray(dates, dtype="datetime64[D]").astype(np.int64) + 3) % 7


def fail(message: str) -> NoReturn:
    raise ValueError(f"params data_generation: {message}")


def is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def calendar_of(params: dict[str, Any]) -> Calendar:
    start = params.get("start_date")
    try:
        start_date = dt.date.fromisoformat(str(start))
    except ValueError:
        fail(f"start_date must be a date written YYYY-MM-DD, got {start!r}")
    n_days = params.get("n_days")
    if not is_int(n_days) or n_days < 1:
        fail(f"n_days must be an integer >= 1, got {n_days!r}")
    return Calendar(np.datetime64(start_date, "D"), int(n_days))


def population_size(params: dict[str, Any]) -> int:
    """The simulated population: ``n_users * scale`` (users never seen are dropped later)."""
    scale, n_users = params.get("scale", 1.0), params.get("n_users")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
        fail(f"scale must be a number > 0, got {scale!r}")
    if not is_int(n_users) or n_users < 1:
        fail(f"n_users must be an integer >= 1, got {n_users!r}")
    return max(1, round(n_users * scale))


def _check_effects(effects: dict[str, Any], known: tuple[str, ...], name: str) -> None:
    unknown = set(effects) - set(known)
    if unknown:
        fail(f"{name} has unknown key(s) {sorted(unknown)}; expected some of {list(known)}")


def check_params(params: dict[str, Any]) -> None:
    """Fail before any work on values the model cannot use."""
    seed = params.get("seed")
    if not is_int(seed) or seed < 0:
        fail(f"seed must be an integer >= 0, got {seed!r}")
    missing = [group for group in PARAMETER_GROUPS if not isinstance(params.get(group), dict)]
    if missing:
        fail(f"lacks the group(s) {missing} (see conf/base/parameters_data_generation.yml)")
    users, visits, funnel = params["users"], params["visits"], params["funnel"]
    if not 0 <= users["pre_window_share"] < 1:
        fail(f"users.pre_window_share must be in [0, 1), got {users['pre_window_share']!r}")
    if users["pre_window_max_days"] < 1:
        fail(f"users.pre_window_max_days must be >= 1, got {users['pre_window_max_days']!r}")
    if not -1 <= users["intent_engagement_correlation"] <= 1:
        fail("users.intent_engagement_correlation must be in [-1, 1]")
    if visits["base_sessions_per_day"] <= 0:
        fail(f"visits.base_sessions_per_day must be > 0, got {visits['base_sessions_per_day']!r}")
    if not 0 <= visits["persistent_share"] <= 1:
        fail(f"visits.persistent_share must be in [0, 1], got {visits['persistent_share']!r}")
    if visits["decay_days"] <= 0:
        fail(f"visits.decay_days must be > 0, got {visits['decay_days']!r}")
    for group, name in (
        ("visits", "weekday_multipliers"),
        ("users", "arrival_weekday_multipliers"),
    ):
        values = params[group][name]
        if len(values) != 7 or min(values) < 0 or max(values) <= 0:
            fail(f"{group}.{name} must be 7 numbers >= 0 (Monday first), got {values!r}")
    if set(funnel["steps"]) != set(FUNNEL_STEPS):
        fail(f"funnel.steps must have exactly the keys {list(FUNNEL_STEPS)}")
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
    category_taste(params)


def category_taste(params: dict[str, Any]) -> float:
    """``session.category_taste``: the chance a product or listing page shows the user's
    favourite category; 0 (the default) plants no category signal."""
    taste = params["session"].get("category_taste", 0.0)
    if isinstance(taste, bool) or not isinstance(taste, int | float) or not 0 <= taste <= 1:
        fail(f"session.category_taste must be a number in [0, 1], got {taste!r}")
    return float(taste)


def random_stream(seed: int, stream: str, *index: int) -> np.random.Generator:
    """Independent streams: users, the session plan, each day's events, the catalogue."""
    return np.random.default_rng([seed, N_RANDOM_STREAMS[stream], *index])


def pick(
    rng: np.random.Generator, weights: tuple[float, ...] | np.ndarray, size: int
) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def lookup_effects(
    effects: dict[str, float], names: tuple[str, ...], codes: np.ndarray
) -> np.ndarray:
    return np.array([float(effects.get(name, 0.0)) for name in names])[codes]

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
``oracle_probabilities`` computes it from ``ga4_user_truth``. A purchase's value is drawn
independently of the funnel, so the expected revenue of a window is the expected number of
purchase sessions times the user's mean purchase value (``purchase_value_mean_usd`` in the
truth): ``oracle_expected_revenue``, the oracle of GA4's predicted revenue.

Planted signal: intent raises both the visit rate and every funnel step (saturating above
``users.intent_saturation``) and shows in the observable dwell time and pages per session;
device, first-touch medium (with a device x medium interaction), country and a
non-monotone engagement term shift the add-to-cart step; the rate decays after the first
touch, so recency and tenure matter. With ``session.category_taste`` > 0 each user's product
and listing pages lean to a favourite item category (``taste.py``), so the category of the
next purchase is predictable from what a user viewed: ``oracle_class_probabilities`` is its
exact distribution (0, the default, plants nothing and leaves the data as without taste).

The session plan (who visits on which day, when, with which session number) is drawn once
from the seed; the events of each day come from their own RNG ``(seed, day)``, so the
daily partitions are built lazily, one at a time, and memory stays bounded at any scale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd

from .oracle import (
    TRUTH_COLUMNS,
    oracle_class_probabilities,
    oracle_expected_revenue,
    oracle_probabilities,
)
from .sessions import Simulation, build_simulation, day_events

__all__ = [
    "generate_ga4_events",
    "oracle_class_probabilities",
    "oracle_expected_revenue",
    "oracle_probabilities",
]

logger = logging.getLogger(__name__)


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

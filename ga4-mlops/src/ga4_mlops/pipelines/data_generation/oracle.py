"""Truth and oracle: the latent columns kept per user, and the exact target probability."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ga4_mlops.checks import require_columns

from .params import is_int, weekday_of
from .users import VisitRates
from .vocabulary import FUNNEL_STEPS, TARGET_EVENTS, WEEKDAY_COLUMNS

CHURN = "churn"

ORACLE_COLUMNS = (
    "user_pseudo_id",
    "first_touch_date",
    "sessions_per_day_base",
    "rate_persistent_share",
    "rate_decay_days",
    "rate_lifetime_days",
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
    "rate_lifetime_days",
    *WEEKDAY_COLUMNS,
    *(f"step_prob_{step}" for step in FUNNEL_STEPS),
    "session_prob_add_to_cart",
    "session_prob_purchase",
)


def oracle_probabilities(
    user_truth: pd.DataFrame, keys: pd.DataFrame, horizon_days: int, target_event: str
) -> pd.Series:
    """The exact probability that each key's user fires ``target_event`` in the horizon.

    For a user with per-session target probability ``q`` and expected sessions ``rate(d)``
    on day ``d``: ``P = 1 - exp(-q * sum(rate(d))) * (1 - q)^[first touch in window]`` over
    the window ``[snapshot_date, snapshot_date + horizon_days)``, the first-touch session
    being the one session that is not part of the Poisson process. ``churn`` (GA4's churn
    probability) is the probability of no session at all in the horizon: ``exp(-sum(rate(d)))``
    without a first touch inside it.
    """
    if target_event not in (*TARGET_EVENTS, CHURN):
        raise ValueError(
            f"target_event must be one of {[*TARGET_EVENTS, CHURN]} for the oracle, "
            f"got {target_event!r}"
        )
    if not is_int(horizon_days) or horizon_days < 1:
        raise ValueError(f"horizon_days must be an integer >= 1, got {horizon_days!r}")
    churn = target_event == CHURN
    probability_column = "sessions_per_day_base" if churn else f"session_prob_{target_event}"
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
    # Churn: no session at all, i.e. every session "fires" (q = 1).
    q = np.ones(len(keys)) if churn else user_truth[probability_column].to_numpy(dtype=float)[rows]
    expected_sessions = np.zeros(len(keys))
    first_touch_inside = np.zeros(len(keys), dtype=bool)
    for offset in range(horizon_days):
        day = snapshot + np.timedelta64(offset, "D")
        age = (day - first_touch).astype(np.int64)
        expected_sessions += rates.daily(rows, weekday_of(day), age)
        first_touch_inside |= age == 0
    no_event = np.exp(-q * expected_sessions) * np.where(first_touch_inside, 1 - q, 1.0)
    probability = no_event if churn else 1 - no_event
    return pd.Series(probability, index=keys.index, name=f"oracle_probability_{target_event}")

"""Truth and oracle: the latent columns kept per user, the exact target probability and the
exact expected purchase revenue of a window."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import poisson

from ga4_mlops.checks import require_columns
from ga4_mlops.problem_types import class_labels, class_score_columns

from .params import is_int, weekday_of
from .taste import category_probability_column
from .users import VisitRates
from .vocabulary import FUNNEL_STEPS, ITEM_CATEGORIES, TARGET_EVENTS, WEEKDAY_COLUMNS

CHURN = "churn"
NO_PURCHASE = "(none)"  # the multiclass label of "no purchase in the horizon"

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
    "purchase_value_mean_usd",
    "favourite_category",
    "category_taste",
    *(category_probability_column(category) for category in ITEM_CATEGORIES),
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
    rows, expected_sessions, first_touch_inside = _sessions_in_window(
        user_truth, keys, horizon_days
    )
    # Churn: no session at all, i.e. every session "fires" (q = 1).
    q = np.ones(len(keys)) if churn else user_truth[probability_column].to_numpy(dtype=float)[rows]
    no_event = np.exp(-q * expected_sessions) * np.where(first_touch_inside, 1 - q, 1.0)
    probability = no_event if churn else 1 - no_event
    return pd.Series(probability, index=keys.index, name=f"oracle_probability_{target_event}")


def oracle_expected_revenue(
    user_truth: pd.DataFrame, keys: pd.DataFrame, horizon_days: int
) -> pd.Series:
    """Each key's exact expected purchase revenue (USD) in ``[snapshot_date, + horizon_days)``.

    Purchase sessions are the Poisson sessions (plus the first-touch one) thinned by the
    per-session purchase probability ``q``, and a purchase's value is drawn independently of
    whether and when it happens, so ``E[revenue] = q * (sum(rate(d)) + [first touch in
    window]) * purchase_value_mean_usd`` (``purchase_value_mean``). GA4's predicted revenue
    is this over 28 days; the feature query's ``revenue_usd_horizon`` is its realisation.
    """
    if not is_int(horizon_days) or horizon_days < 1:
        raise ValueError(f"horizon_days must be an integer >= 1, got {horizon_days!r}")
    value_columns = ("session_prob_purchase", "purchase_value_mean_usd")
    require_columns(user_truth, (*ORACLE_COLUMNS, *value_columns), "ga4_user_truth")
    rows, expected_sessions, first_touch_inside = _sessions_in_window(
        user_truth, keys, horizon_days
    )
    q, value = (user_truth[column].to_numpy(dtype=float)[rows] for column in value_columns)
    revenue = q * (expected_sessions + first_touch_inside) * value
    return pd.Series(revenue, index=keys.index, name="oracle_expected_revenue_usd")


def purchase_value_mean(
    product_pages_mean: np.ndarray,
    price_mean: np.ndarray | float,
    extra_add_to_cart_mean: float,
    extra_quantity_mean: float,
) -> np.ndarray:
    """Expected value of one purchase per user, as ``day_events`` draws the cart.

    A purchasing session views ``1 + Poisson(product_pages_mean)`` product pages and adds the
    last ``min(1 + Poisson(extra_add_to_cart_mean), pages)`` of them; each page's item is
    drawn with the user's expected price ``price_mean`` (``taste.price_means``: by popularity,
    tilted to the favourite category) and each line's quantity is ``1 +
    Poisson(extra_quantity_mean)``, all independently of the funnel outcomes. So ``E[value] =
    E[lines] * E[price] * E[quantity]`` with ``E[lines] = 1 + sum_k P(X >= k) P(Y >= k)`` for
    ``k >= 1``, ``X, Y`` the two Poisson counts (``E[min(X, Y)]`` as a sum of joint tails).
    """
    product_pages_mean = np.asarray(product_pages_mean, dtype=float)
    tail_terms = int(np.ceil(extra_add_to_cart_mean + 12 * np.sqrt(extra_add_to_cart_mean))) + 40
    k = np.arange(1, tail_terms + 1)
    adds_tail = poisson.sf(k - 1, extra_add_to_cart_mean)  # P(X >= k)
    pages_tail = poisson.sf(k[None, :] - 1, product_pages_mean[:, None])  # P(Y >= k)
    lines = 1 + pages_tail @ adds_tail
    return lines * price_mean * (1 + extra_quantity_mean)


def oracle_class_probabilities(
    user_truth: pd.DataFrame,
    keys: pd.DataFrame,
    horizon_days: int,
    columns: Mapping[str, Any],
) -> pd.DataFrame:
    """Each key's exact probability of each class of ``columns.classes``: the item category of
    the first line of the user's first purchase in ``[snapshot_date, + horizon_days)``, or
    ``(none)`` (no purchase).

    A purchase's lines are its session's cart adds in add order, each page's item drawn
    independently of the funnel and of every other session with the user's category shares
    (``category_probability_*`` in the truth: taste times the favourite plus the rest by
    popularity). So whichever purchase comes first, its first line's category has those
    shares: ``P(c) = P(purchase) * share(c)`` and ``P((none)) = 1 - P(purchase)``. Classes
    that are neither get 0; a category purchases can have that the classes lack is refused
    (the probabilities would not sum to 1).
    """
    labels = class_labels(columns)
    if NO_PURCHASE not in labels:
        raise ValueError(
            f"params model_input.columns.classes must hold {NO_PURCHASE!r} (no purchase in the "
            f"horizon) for the category oracle, got {labels}"
        )
    share_columns = [category_probability_column(category) for category in ITEM_CATEGORIES]
    require_columns(user_truth, share_columns, "ga4_user_truth")
    possible = user_truth[share_columns].to_numpy(dtype=float).max(axis=0, initial=0.0) > 0
    missing = [c for c, p in zip(ITEM_CATEGORIES, possible, strict=True) if p and c not in labels]
    if missing:
        raise ValueError(
            f"params model_input.columns.classes lacks the item categor(ies) {missing} that "
            f"ga4_user_truth users buy from; expected every one of {list(ITEM_CATEGORIES)} "
            f"plus {NO_PURCHASE!r}, got {labels}"
        )
    buy = oracle_probabilities(user_truth, keys, horizon_days, "purchase").to_numpy()
    rows = _truth_rows(user_truth, keys)
    shares = user_truth[share_columns].to_numpy(dtype=float)[rows]
    probability = np.zeros((len(keys), len(labels)))
    for position, label in enumerate(labels):
        if label == NO_PURCHASE:
            probability[:, position] = 1 - buy
        elif label in ITEM_CATEGORIES:
            probability[:, position] = buy * shares[:, ITEM_CATEGORIES.index(label)]
    return pd.DataFrame(
        probability, index=keys.index, columns=class_score_columns("oracle", columns)
    )


def _truth_rows(user_truth: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """The truth row of each key's user; unknown users are refused, named."""
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
    return rows


def _sessions_in_window(
    user_truth: pd.DataFrame, keys: pd.DataFrame, horizon_days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truth row of each key, its expected Poisson sessions in the window and whether the
    first-touch session (not part of the Poisson process) falls inside it."""
    rows = _truth_rows(user_truth, keys)
    snapshot = pd.to_datetime(keys["snapshot_date"]).to_numpy().astype("datetime64[D]")
    first_touch = (
        pd.to_datetime(user_truth["first_touch_date"]).to_numpy().astype("datetime64[D]")[rows]
    )
    rates = VisitRates.of(user_truth)
    expected_sessions = np.zeros(len(keys))
    first_touch_inside = np.zeros(len(keys), dtype=bool)
    for offset in range(horizon_days):
        day = snapshot + np.timedelta64(offset, "D")
        age = (day - first_touch).astype(np.int64)
        expected_sessions += rates.daily(rows, weekday_of(day), age)
        first_touch_inside |= age == 0
    return rows, expected_sessions, first_touch_inside

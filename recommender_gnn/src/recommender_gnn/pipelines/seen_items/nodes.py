"""Choose each model's seen-item policy on validation, apply it to validation and test.

The policy (``model_selection.policy``) decides per event type how far up the session's own
items go; it is chosen on the validation split only and applied unchanged to the test week.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from recommender_gnn.model_selection.policy import (
    apply_seen_policy,
    choose_seen_policy,
    empty_predictions,
    policy_score,
)

logger = logging.getLogger(__name__)


def choose_policy(
    valid_candidates: pd.DataFrame,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    popular_items: pd.DataFrame,
    selection: dict[str, Any],
    model: str,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """({event type: weight, validation figures}, the weight x event type recall table)."""
    weights, table = choose_seen_policy(
        valid_candidates, valid_sessions, valid_labels, popular_items, selection["seen_items"]
    )
    scores = policy_score(table, weights)
    logger.info("%s: seen-item weights %s, validation score %.4f", model, weights, scores["score"])
    # JSON has no infinity: "first" stands for it.
    readable = {t: "first" if w == float("inf") else w for t, w in weights.items()}
    return {"model": model, "weights": readable, "valid": scores}, table


def apply_policy(
    candidates: pd.DataFrame,
    sessions: pd.DataFrame,
    popular_items: pd.DataFrame,
    policy: dict[str, Any],
    selection: dict[str, Any],
) -> pd.DataFrame:
    """The model's predictions: candidates merged with the session's items, then filled."""
    weights = policy_weights(policy)
    return apply_seen_policy(candidates, sessions, popular_items, weights, selection["seen_items"])


TEST_WEEK_MODELS = ("all", "submitted")


def apply_test_policy(
    candidates: pd.DataFrame,
    sessions: pd.DataFrame,
    popular_items: pd.DataFrame,
    policy: dict[str, Any],
    selection: dict[str, Any],
    decision: dict[str, Any],
    model: str,
) -> pd.DataFrame:
    """The model's test predictions, or none when ``model_selection.test_week_models`` is
    ``submitted`` and the gate submits another model (at OTTO's size each model's test
    predictions cost minutes and gigabytes; the comparison is made on validation anyway)."""
    scope = selection.get("test_week_models", "all")
    if scope not in TEST_WEEK_MODELS:
        raise ValueError(
            f"params model_selection.test_week_models is {scope!r}: expected one of "
            f"{list(TEST_WEEK_MODELS)}"
        )
    if scope == "submitted" and model != decision["submitted_model"]:
        logger.info(
            "%s: no test predictions (the gate submits %s)", model, decision["submitted_model"]
        )
        return empty_predictions()
    return apply_policy(candidates, sessions, popular_items, policy, selection)


def policy_weights(policy: dict[str, Any]) -> dict[str, float]:
    """{event type: weight} from a saved policy ("first" is infinity in JSON)."""
    return {t: float("inf") if w == "first" else float(w) for t, w in policy["weights"].items()}

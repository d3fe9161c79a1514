"""The baselines' node functions: ``fit_<model>`` (once on train_sessions, once on
refit_sessions) and ``recommend_<model>(sessions, state, params)`` -> candidates (new items
only, ``candidates.py``), plus the node that tunes a baseline on validation with the shared
protocol (``model_selection.tuning``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from recommender_gnn.model_selection.tuning import tune_recommender

from .candidates import fit_items
from .covisitation import fit_covisitation, recommend_covisitation
from .popularity import fit_popularity, recommend_popularity
from .sknn import fit_sknn, recommend_sknn
from .transitions import fit_transitions, recommend_transitions

RECOMMENDERS: dict[str, Callable[..., pd.DataFrame]] = {
    "popularity": recommend_popularity,
    "covisitation": recommend_covisitation,
    "transitions": recommend_transitions,
    "sknn": recommend_sknn,
}

__all__ = [
    "RECOMMENDERS",
    "fit_covisitation",
    "fit_items",
    "fit_popularity",
    "fit_sknn",
    "fit_transitions",
    "recommend_covisitation",
    "recommend_popularity",
    "recommend_sknn",
    "recommend_transitions",
    "tune_baseline",
]


def tune_baseline(
    state: Any,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    popular_items: pd.DataFrame,
    params: dict[str, Any],
    selection: dict[str, Any],
    model: str,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """(the parameters chosen on validation, one row per trial) of ``model`` fit on train."""
    return tune_recommender(
        model, RECOMMENDERS[model], (state,), valid_sessions, valid_labels, popular_items,
        params, selection,
    )  # fmt: skip

"""The GNN tuned like every other model, then refit on the whole training file.

Each Optuna trial trains SR-GNN with early stopping on (a seeded sample of) the validation
split, scored under the seen-item policy, exactly as the baselines' trials are scored; the
trial budget is the shared ``model_selection.tuning.n_trials``. The best trial's network is
kept for the validation predictions; ``refit_gnn`` trains the same configuration on training
+ validation weeks for the number of epochs each head needed, so the test predictions come from
a model that has seen the most recent week.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd

from recommender_gnn.model_selection.policy import policy_scores
from recommender_gnn.model_selection.tuning import tune, tuning_sample
from recommender_gnn.models.session_gnn.training import fit_gnn


def _scorer(popular_items: pd.DataFrame, seen_items: dict[str, Any]):
    def score(candidates, sessions, labels) -> dict[str, Any]:
        return policy_scores(candidates, sessions, labels, popular_items, seen_items)

    return score


def tune_gnn(
    train_sessions: pd.DataFrame,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    item_map: pd.DataFrame,
    popular_items: pd.DataFrame,
    params: dict[str, Any],
    selection: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """(best parameters, trials, the best trial's checkpoint, its training history)."""
    tuning = selection["tuning"]
    sessions, labels = tuning_sample(
        valid_sessions, valid_labels, tuning.get("max_valid_sessions"), int(tuning["seed"])
    )
    fit = partial(
        fit_gnn,
        train_sessions,
        item_map,
        valid_sessions=sessions,
        valid_labels=labels,
        score_fn=_scorer(popular_items, selection["seen_items"]),
    )
    best: dict[str, Any] = {}

    def evaluate(trial_params: dict[str, Any], report) -> dict[str, Any]:
        checkpoint, history = fit(trial_params, on_epoch=report)
        recalls = checkpoint["best_valid_recall"]
        result = {
            "score": checkpoint["best_valid_score"],
            **recalls,
            "policy": checkpoint.get("best_valid_policy", {}),
        }
        pruned = checkpoint["pruned_after_epoch"] is not None
        if not pruned and (not best or result["score"] > best["score"]):  # as tune chooses
            best.update(score=result["score"], checkpoint=checkpoint, history=history)
        return result

    best_params, trials = tune("gnn", evaluate, params, tuning)
    return best_params, trials, best["checkpoint"], best["history"]


def refit_gnn(
    refit_sessions: pd.DataFrame,
    item_map: pd.DataFrame,
    best_params: dict[str, Any],
    checkpoint: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The tuned configuration trained on every training event, each head for its epochs."""
    params = {**best_params, "epochs": dict(checkpoint["best_epochs"])}
    return fit_gnn(refit_sessions, item_map, params)

"""The same tuning protocol for every model: Optuna on the validation split, one trial budget.

A trial sets the model's tunable parameters from its ``search_space``, scores its validation
candidates under their best seen-item policy (``policy.policy_scores``) and keeps OTTO's weighted
score. Trial 0 is the model's configured defaults, so tuning never ends worse than them on
validation. ``n_trials`` and the sampler seed are shared by all models (``model_selection.tuning``):
no model gets a larger budget than another. The test week is never read here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pandas as pd

from .policy import policy_scores

logger = logging.getLogger(__name__)


def suggest(trial: optuna.Trial, search_space: dict[str, dict[str, Any]], model: str) -> dict:
    """Parameter values for one trial; ``type`` is int, float or categorical."""
    values = {}
    for name, space in search_space.items():
        kind = space.get("type")
        if kind == "int":
            values[name] = trial.suggest_int(
                name, int(space["low"]), int(space["high"]), log=bool(space.get("log", False))
            )
        elif kind == "float":
            values[name] = trial.suggest_float(
                name, float(space["low"]), float(space["high"]), log=bool(space.get("log", False))
            )
        elif kind == "categorical":
            values[name] = trial.suggest_categorical(name, list(space["choices"]))
        else:
            raise ValueError(
                f"params {model}.search_space.{name}: type must be int, float or categorical, "
                f"got {kind!r}"
            )
    return values


def tuning_sample(
    sessions: pd.DataFrame, labels: pd.DataFrame, max_sessions: int | None, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded sample of whole validation sessions (all of them when there are fewer)."""
    ids = np.unique(sessions["session"].to_numpy())
    if not max_sessions or ids.size <= max_sessions:
        return sessions, labels
    kept = np.random.default_rng(seed).choice(ids, int(max_sessions), replace=False)
    return (
        sessions[sessions["session"].isin(kept)].reset_index(drop=True),
        labels[labels["session"].isin(kept)].reset_index(drop=True),
    )


def tune(
    model: str,
    evaluate: Callable[[dict[str, Any]], dict[str, Any]],
    params: dict[str, Any],
    tuning: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """(the best parameters, one row per trial) for ``evaluate(params) -> policy_scores``.

    ``params`` holds the defaults and ``search_space``; the best trial's values replace the
    defaults (ties: the earlier trial, so the defaults win when nothing beats them).
    """
    space = params.get("search_space") or {}
    defaults = {name: params[name] for name in space if name in params}
    sampler = optuna.samplers.TPESampler(seed=int(tuning["seed"]))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    if defaults and len(defaults) == len(space):
        study.enqueue_trial(defaults)
    rows = []
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n_trials = int(tuning["n_trials"]) if space else 1
    for number in range(n_trials):
        trial = study.ask()
        values = suggest(trial, space, model)
        result = evaluate({**params, **values})
        study.tell(trial, result["score"])
        rows.append(
            {
                "trial": number,
                **values,
                **{key: result[key] for key in ("score", "clicks", "carts", "orders")},
                **{f"policy_{t}": w for t, w in result["policy"].items()},
            }
        )
        logger.info("%s trial %d: validation score %.4f %s", model, number, result["score"], values)
    table = pd.DataFrame(rows)
    best = int(table["score"].to_numpy().argmax())
    best_values = {name: table.loc[best, name] for name in space}
    best_values = {k: v.item() if hasattr(v, "item") else v for k, v in best_values.items()}
    logger.info("%s: best validation score %.4f with %s", model, table["score"].max(), best_values)
    return {**params, **best_values}, table.assign(chosen=np.arange(len(table)) == best)


def tune_recommender(
    model: str,
    recommend: Callable[..., pd.DataFrame],
    state: tuple,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    popular_items: pd.DataFrame,
    params: dict[str, Any],
    selection: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Tune a model whose candidates are ``recommend(sessions, *state, params)``."""
    tuning = selection["tuning"]
    sessions, labels = tuning_sample(
        valid_sessions, valid_labels, tuning.get("max_valid_sessions"), int(tuning["seed"])
    )

    def evaluate(trial_params: dict[str, Any]) -> dict[str, Any]:
        candidates = recommend(sessions, *state, trial_params)
        return policy_scores(candidates, sessions, labels, popular_items, selection["seen_items"])

    return tune(model, evaluate, params, tuning)

"""The same tuning protocol for every model: Optuna on the validation split, one trial budget.

A trial sets the model's tunable parameters from its ``search_space``, scores its validation
candidates under their best seen-item policy (``policy.policy_scores``) and keeps OTTO's weighted
score. Trial 0 is the model's configured defaults, so tuning never ends worse than them on
validation. ``n_trials`` and the sampler seed are shared by all models (``model_selection.tuning``):
no model gets a larger budget than another. The test week is never read here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pandas as pd

from recommender_gnn.search_space import suggest

from .policy import policy_scores

logger = logging.getLogger(__name__)


def sampled_sessions(
    frame: pd.DataFrame, max_sessions: int | None, rng: np.random.Generator
) -> np.ndarray | None:
    """Ids of ``max_sessions`` of the frame's sessions drawn without replacement; None when
    there are no more than that (keep all)."""
    ids = np.unique(frame["session"].to_numpy())
    if not max_sessions or ids.size <= int(max_sessions):
        return None
    return rng.choice(ids, int(max_sessions), replace=False)


def tuning_sample(
    sessions: pd.DataFrame, labels: pd.DataFrame, max_sessions: int | None, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded sample of whole validation sessions (all of them when there are fewer)."""
    kept = sampled_sessions(sessions, max_sessions, np.random.default_rng(seed))
    if kept is None:
        return sessions, labels
    return (
        sessions[sessions["session"].isin(kept)].reset_index(drop=True),
        labels[labels["session"].isin(kept)].reset_index(drop=True),
    )


def tune(
    model: str,
    evaluate: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    tuning: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """(the best parameters, one row per trial) for ``evaluate(params, report) -> policy_scores``.

    ``params`` holds the defaults and ``search_space``; the best trial's values replace the
    defaults (ties: the earlier trial, so the defaults win when nothing beats them). A model
    trained in epochs calls ``report(epoch, validation score so far)`` after each one and stops
    when it returns True: Optuna's median pruner (``tuning.pruner``) ends a trial whose score
    trails the median of earlier trials at the same epoch. Pruning saves compute, never trials:
    every model still gets ``n_trials``; a pruned trial cannot be chosen.
    """
    space = params.get("search_space") or {}
    defaults = {name: params[name] for name in space if name in params}
    sampler = optuna.samplers.TPESampler(seed=int(tuning["seed"]))
    pruning = tuning.get("pruner") or {}
    pruner = (
        optuna.pruners.MedianPruner(
            n_startup_trials=int(pruning["n_startup_trials"]),
            n_warmup_steps=int(pruning["n_warmup_steps"]),
        )
        if pruning
        else optuna.pruners.NopPruner()
    )
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    if defaults and len(defaults) == len(space):
        study.enqueue_trial(defaults)
    rows = []
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n_trials = int(tuning["n_trials"]) if space else 1
    for number in range(n_trials):
        trial = study.ask()
        values = suggest(trial, space, model)
        pruned = []

        def report(step: int, value: float, trial=trial, pruned=pruned) -> bool:
            trial.report(float(value), int(step))
            if trial.should_prune():
                pruned.append(int(step))
            return bool(pruned)

        started = time.perf_counter()
        result = evaluate({**params, **values}, report)
        seconds = time.perf_counter() - started
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, result["score"])
        rows.append(
            {
                "trial": number,
                **values,
                **{key: result[key] for key in ("score", "clicks", "carts", "orders")},
                **{f"policy_{t}": w for t, w in result["policy"].items()},
                "pruned_after": pruned[0] if pruned else None,
                "seconds": round(seconds, 2),
            }
        )
        logger.info(
            "%s trial %d: validation score %.4f %s%s", model, number, result["score"], values,
            f" (pruned after epoch {pruned[0]})" if pruned else "",
        )  # fmt: skip
    table = pd.DataFrame(rows)
    eligible = table["score"].where(table["pruned_after"].isna(), -np.inf)
    best = int(eligible.to_numpy().argmax())
    best_values = {name: table.loc[best, name] for name in space}
    best_values = {k: v.item() if hasattr(v, "item") else v for k, v in best_values.items()}
    logger.info(
        "%s: best validation score %.4f with %s", model, table.loc[best, "score"], best_values
    )
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

    def evaluate(trial_params: dict[str, Any], report: Callable) -> dict[str, Any]:
        candidates = recommend(sessions, *state, trial_params)  # no epochs: nothing to report
        return policy_scores(candidates, sessions, labels, popular_items, selection["seen_items"])

    return tune(model, evaluate, params, tuning)

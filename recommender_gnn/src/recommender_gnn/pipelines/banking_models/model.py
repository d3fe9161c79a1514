"""The competition's winning model: one LightGBM multiclass model over the 24 products, trained
on one row per (customer, target month, added product); at prediction its probabilities per
product, with the products held in ``m-1`` removed, give each customer's top k.

Tuned with the repository's shared Optuna helper (``model_selection.tuning.tune``): each trial
trains on target months before the validation month and scores MAP@k on it every
``eval_every`` rounds; the best checkpoint is the trial's score and number of rounds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from ..banking_data.contract import PRODUCTS
from ..banking_data.generator import SHORT
from ..banking_data.metrics import map_at_k
from .features import LABEL, feature_names
from .tuning import tune_on_map

logger = logging.getLogger(__name__)

# The model's tunable and fixed LightGBM parameters (the rest of its config is the protocol's).
BOOSTER_PARAMS = (
    "learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction", "bagging_fraction",
    "bagging_freq", "lambda_l1", "lambda_l2", "max_depth", "min_sum_hessian_in_leaf", "max_bin",
)  # fmt: skip


def booster_params(params: dict[str, Any]) -> dict[str, Any]:
    """LightGBM's parameters: multiclass over the products, deterministic for a seed."""
    chosen = {name: params[name] for name in BOOSTER_PARAMS if name in params}
    return {
        **chosen,
        "objective": "multiclass",
        "num_class": len(PRODUCTS),
        "metric": "None",
        "seed": int(params["seed"]),
        "num_threads": int(params.get("num_threads", 1)),
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }


def _dataset(rows: pd.DataFrame, features_config: dict[str, Any]) -> lgb.Dataset:
    names = feature_names(features_config)
    return lgb.Dataset(
        rows[names],
        label=rows[LABEL].to_numpy(),
        feature_name=names,
        categorical_feature=list(features_config["categorical_attributes"]),
        free_raw_data=True,
    )


def fit(
    rows: pd.DataFrame,
    params: dict[str, Any],
    features_config: dict[str, Any],
    num_boost_round: int,
    callbacks: list[Callable] | None = None,
) -> lgb.Booster:
    return lgb.train(
        booster_params(params),
        _dataset(rows, features_config),
        num_boost_round=int(num_boost_round),
        callbacks=callbacks,
    )


def rank_products(
    customers: np.ndarray, probabilities: np.ndarray, held: np.ndarray, k: int
) -> pd.DataFrame:
    """(customer, product, rank): each customer's k most probable products not held (ties in
    PRODUCTS order; a held product is never listed)."""
    scores = np.where(held.astype(bool), -1.0, probabilities)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(len(scores)), order.shape[1])
    columns = order.ravel()
    ranked = pd.DataFrame(
        {
            "customer": np.asarray(customers)[rows],
            "product": np.asarray(PRODUCTS, dtype=object)[columns],
            "rank": np.tile(np.arange(1, order.shape[1] + 1), len(scores)),
        }
    )
    return ranked[scores[rows, columns] >= 0].reset_index(drop=True)


def held_last_month(features: pd.DataFrame) -> np.ndarray:
    """The products each candidate holds in ``m-1`` (its lag-1 flags)."""
    return features[[f"lag1_{short}" for short in SHORT]].to_numpy(dtype=float) == 1


def predict(
    booster: lgb.Booster,
    features: pd.DataFrame,
    features_config: dict[str, Any],
    k: int,
    num_iteration: int | None = None,
) -> pd.DataFrame:
    """Top-k products of every candidate (rows of ``features``) not held in ``m-1``."""
    if len(features) == 0:
        return pd.DataFrame({"customer": [], "product": [], "rank": []})
    names = feature_names(features_config)
    probabilities = booster.predict(features[names], num_iteration=num_iteration)
    return rank_products(features["customer"].to_numpy(), probabilities,
                         held_last_month(features), k)  # fmt: skip


def checkpoint_scores(
    rows: pd.DataFrame,
    valid_features: pd.DataFrame,
    valid_truth: pd.DataFrame,
    valid_customers: np.ndarray,
    params: dict[str, Any],
    features_config: dict[str, Any],
    k: int,
    report: Callable[[int, float], bool] | None = None,
) -> tuple[list[tuple[int, float]], dict[int, pd.DataFrame]]:
    """Train up to ``num_boost_round`` rounds, scoring validation MAP@k every ``eval_every``
    rounds: ([(rounds, map_all)], predictions at each checkpoint). Stops when ``report``
    (Optuna's pruner) says so or after ``patience`` checkpoints without a better score."""
    every, total = int(params["eval_every"]), int(params["num_boost_round"])
    patience = int(params.get("patience") or 10**9)
    history: list[tuple[int, float]] = []
    predictions: dict[int, pd.DataFrame] = {}

    def score(env: lgb.callback.CallbackEnv) -> None:
        rounds = env.iteration + 1
        if rounds % every and rounds != env.end_iteration:
            return
        ranked = predict(env.model, valid_features, features_config, k, num_iteration=rounds)
        value = map_at_k(ranked, valid_truth, valid_customers, k)["map_all"]
        history.append((rounds, value))
        predictions[rounds] = ranked
        best = max(range(len(history)), key=lambda i: (history[i][1], -i))
        stop = report(len(history), value) if report is not None else False
        if stop or len(history) - 1 - best >= patience:
            raise lgb.callback.EarlyStopException(env.iteration, [])

    score.order = 30  # lgb.train sorts its callbacks by this attribute
    fit(rows, params, features_config, total, callbacks=[score])
    return history, predictions


def tune_lightgbm(
    rows: pd.DataFrame,
    valid_features: pd.DataFrame,
    valid_truth: pd.DataFrame,
    valid_customers: np.ndarray,
    params: dict[str, Any],
    features_config: dict[str, Any],
    tuning: dict[str, Any],
    k: int,
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """(chosen params with ``num_boost_round`` = the chosen trial's best rounds, one row per
    trial, the chosen trial's validation predictions at those rounds)."""

    def evaluate(trial_params: dict[str, Any], report: Callable) -> tuple:
        history, predictions = checkpoint_scores(
            rows, valid_features, valid_truth, valid_customers, trial_params, features_config,
            k, report,
        )  # fmt: skip
        best = max(range(len(history)), key=lambda i: (history[i][1], -i))
        rounds, value = history[best]
        return value, rounds, predictions[rounds]

    chosen, table, rounds, ranking = tune_on_map(
        "banking_lightgbm", evaluate, params, tuning, "best_rounds"
    )
    chosen = {**chosen, "num_boost_round": rounds}
    logger.info("banking LightGBM: validation MAP@%d %.5f with %d rounds", k,
                table.loc[table["chosen"], "map_all"].iloc[0], rounds)  # fmt: skip
    return chosen, table, ranking

"""Train the ranker: LightGBM ``lambdarank`` with one query per (week, customer).

Training weeks fit, the validation week early-stops and scores Optuna's trials (MAP@12
against every purchase of the week, candidates or not); the test week is never read here.
"""

import logging
import re
from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd

from recommender_ranking.pipelines.feature_engineering.nodes import LABEL
from recommender_ranking.pipelines.model_evaluation.metrics import map_at_k, rank_by_score
from recommender_ranking.search_space import suggest

logger = logging.getLogger(__name__)

QUERY = ["week", "customer_id"]


def query_groups(rows: pd.DataFrame) -> np.ndarray:
    """Sizes of the consecutive (week, customer) queries; the rows must be sorted by query."""
    keys = rows[QUERY]
    changes = (keys != keys.shift()).any(axis=1).to_numpy()
    starts = np.flatnonzero(changes)
    if len(starts) != len(keys.drop_duplicates()):
        raise ValueError(
            "ranking rows are not sorted by query (week, customer_id): LightGBM lambdarank "
            "needs each query's rows together"
        )
    return np.diff(np.append(starts, len(keys)))


def feature_columns(
    feature_selection: dict[str, Any], use_dfs: bool, exclude: list[str] | None = None
) -> list[str]:
    """The ranker's columns: the selected hand-written ones (and DFS ones with ``use_dfs``),
    minus those matching any regex of ``exclude`` (``re.search``: ``price`` drops every
    column whose name contains it)."""
    columns = [*feature_selection["hand_written"], *(feature_selection["dfs"] if use_dfs else [])]
    patterns = [re.compile(pattern) for pattern in exclude or []]
    if not patterns:
        return columns
    known = [*feature_selection["hand_written"], *feature_selection["dfs"]]
    for pattern in patterns:
        if not any(pattern.search(column) for column in known):
            logger.warning("exclude_features: %r matches no feature column", pattern.pattern)
    dropped = [column for column in columns if any(p.search(column) for p in patterns)]
    if dropped:
        logger.info("Features excluded by exclude_features: %s", ", ".join(dropped))
    return [column for column in columns if column not in dropped]


def _split(
    ranking_features: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = training_rows(
        ranking_features[ranking_features["week"] >= params["first_training_week"]], params
    )
    validation = ranking_features[ranking_features["week"] == params["validation_week"]]
    validation = sample_queries(
        validation, params.get("max_validation_rows"), params["seed"], "validation"
    )
    if train.empty or validation.empty:
        raise ValueError(
            f"ranking_features has no training rows (week >= {params['first_training_week']} "
            f"with a purchase) or no validation rows (week {params['validation_week']})"
        )
    return train, validation


def training_rows(rows: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The rows a fit learns from: queries with a purchase, a bounded sample of queries, and
    a seeded share of the non-purchased rows (every purchase kept, order kept)."""
    if params["drop_queries_without_positive"]:
        rows = rows[rows.groupby(QUERY)[LABEL].transform("max") > 0]
    rows = sample_queries(rows, params.get("max_train_rows"), params["seed"], "training")
    share = params.get("negative_sample_share", 1.0)
    if share < 1.0:
        keep = np.random.default_rng(params["seed"]).random(len(rows)) < share
        rows = rows[keep | (rows[LABEL] > 0).to_numpy()]
        logger.info("Training rows after negative downsampling (share %.2f): %d", share, len(rows))
    return rows


def sample_queries(rows: pd.DataFrame, max_rows: int | None, seed: int, name: str) -> pd.DataFrame:
    """A seeded sample of whole queries (customer-weeks) holding about ``max_rows`` rows, in
    order; every row when there are fewer (or ``max_rows`` is null).

    Bounds training time at any data size: lambdarank needs each query's rows together, so
    queries, not rows, are drawn.
    """
    if not max_rows or len(rows) <= max_rows:
        return rows
    keys = rows[QUERY]
    query = np.cumsum((keys != keys.shift()).any(axis=1).to_numpy()) - 1
    keep = np.random.default_rng(seed).random(query[-1] + 1) < max_rows / len(rows)
    sampled = rows[keep[query]]
    logger.info(
        "%s rows: %d of %d (%d of %d queries; max_rows %d)",
        name.capitalize(),
        len(sampled),
        len(rows),
        keep.sum(),
        len(keep),
        max_rows,
    )
    return sampled


def fit_ranker(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    columns: list[str],
    hyperparameters: dict[str, Any],
    params: dict[str, Any],
) -> lgb.LGBMRanker:
    model = lgb.LGBMRanker(**params["fixed"], **hyperparameters)
    model.fit(
        train[columns],
        train[LABEL],
        group=query_groups(train),
        eval_X=(validation[columns],),
        eval_y=(validation[LABEL],),
        eval_group=[query_groups(validation)],
        eval_at=[params["k"]],
        callbacks=[lgb.early_stopping(params["early_stopping_rounds"], verbose=False)],
    )
    return model


def validation_map(
    model: lgb.LGBMRanker,
    validation: pd.DataFrame,
    week_purchases: pd.DataFrame,
    columns: list[str],
    k: int,
) -> float:
    scored = validation[["week", "customer_id", "article_id"]].assign(
        score=model.predict(validation[columns])
    )
    bought = week_purchases[week_purchases["week"] == validation["week"].iloc[0]]
    bought = bought[bought["customer_id"].isin(validation["customer_id"])]  # when sampled
    return map_at_k(rank_by_score(scored, k), bought, k)


def tpe_sampler(params: dict[str, Any]) -> optuna.samplers.TPESampler:
    """Seeded TPE that starts guiding after ``tpe_startup_trials`` random trials: Optuna's
    default (10) is above the budget, and the search was then random search only."""
    startup = params["tpe_startup_trials"]
    if params["n_trials"] <= startup:
        logger.warning(
            "model_training.n_trials=%d <= tpe_startup_trials=%d: every trial is random",
            params["n_trials"],
            startup,
        )
    return optuna.samplers.TPESampler(seed=params["seed"], n_startup_trials=startup)


def train_ranker(
    ranking_features: pd.DataFrame,
    week_purchases: pd.DataFrame,
    feature_selection: dict[str, Any],
    params: dict[str, Any],
) -> tuple[lgb.LGBMRanker, dict[str, Any], pd.DataFrame]:
    """Optuna (``tpe_sampler``, ``n_trials``) over LightGBM's main knobs (``search_space``, drawn
    by ``search_space.suggest``); the best trial's model.

    Returns the model, its hyperparameters (with the feature columns and validation MAP@k)
    and the table of trials.
    """
    columns = feature_columns(feature_selection, params["use_dfs"], params.get("exclude_features"))
    train, validation = _split(ranking_features, params)
    space = params["search_space"]
    models: dict[int, lgb.LGBMRanker] = {}

    def objective(trial: optuna.Trial) -> float:
        hyperparameters = suggest(trial, space, "model_training")
        model = fit_ranker(train, validation, columns, hyperparameters, params)
        models[trial.number] = model
        return validation_map(model, validation, week_purchases, columns, params["k"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=tpe_sampler(params))
    study.optimize(objective, n_trials=params["n_trials"])
    best = study.best_trial
    model = models[best.number]
    logger.info(
        "Ranker: validation MAP@%d %.5f after %d trials, %d features, %d boosting rounds",
        params["k"],
        best.value,
        len(study.trials),
        len(columns),
        model.best_iteration_ or model.n_estimators,
    )
    hyperparameters = {
        **best.params,
        "best_iteration": int(model.best_iteration_ or model.n_estimators),
        "validation_map_at_k": float(best.value),
        "feature_columns": columns,
    }
    trials = study.trials_dataframe(attrs=("number", "value", "params", "state"))
    return model, hyperparameters, trials


def feature_ablation(
    ranking_features: pd.DataFrame,
    week_purchases: pd.DataFrame,
    feature_selection: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Validation MAP@k of the ranker with hand-written features only, then with DFS too.

    Same fixed hyperparameters (``ablation_hyperparameters``) for both, no tuning, so the only
    difference is the feature set. ``use_dfs`` in parameters_model_training.yml follows it.
    """
    train, validation = _split(ranking_features, params)
    rows = []
    for name, use_dfs in {"hand_written": False, "hand_written_and_dfs": True}.items():
        columns = feature_columns(feature_selection, use_dfs, params.get("exclude_features"))
        model = fit_ranker(train, validation, columns, params["ablation_hyperparameters"], params)
        rows.append(
            {
                "features": name,
                "n_features": len(columns),
                f"validation_map_at_{params['k']}": validation_map(
                    model, validation, week_purchases, columns, params["k"]
                ),
            }
        )
    table = pd.DataFrame(rows)
    logger.info("Feature ablation:\n%s", table.to_string(index=False))
    metric = f"validation_map_at_{params['k']}"
    metrics = {f"{row['features']}.{metric}": {"value": row[metric], "step": 0} for row in rows}
    return table, metrics

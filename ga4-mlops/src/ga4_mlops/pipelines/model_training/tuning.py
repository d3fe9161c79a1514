"""Optuna's search over one or several model kinds (``estimator.py``), on the validation split.

Binary and multiclass targets are tuned on log loss, regression targets on
``model.selection_metric``; a list of kinds gets one study each, the same budget, and the best
on validation wins.
"""

import logging
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import log_loss

from ga4_mlops.problem_types import (
    MULTICLASS,
    REGRESSION,
    class_labels,
    problem_type,
    target_values,
)
from ga4_mlops.search_space import suggest

from .estimator import configured_kinds, fit_trial, kind_settings, make_classifier
from .regression import METRIC_HIGHER_IS_BETTER, validation_score

logger = logging.getLogger(__name__)


def _categorical_features(features: pd.DataFrame, columns: dict[str, Any]) -> list[str]:
    return [column for column in columns["categorical"] if column in features.columns]


def _row_sample(
    features: pd.DataFrame, data: pd.DataFrame, max_rows: int | None, seed: int, purpose: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded sample of ``max_rows`` rows (in their order) when there are more.

    Tuning time grows with the rows times the trials, the refit's with the rows: at 10x the
    public sample both would overrun the run's time budget. Smaller splits (the default
    data) are used whole.
    """
    if max_rows is None or len(features) <= max_rows:
        return features, data
    rows = np.sort(np.random.default_rng(seed).choice(len(features), max_rows, replace=False))
    logger.info("%s: a seeded sample of %d of %d rows", purpose, max_rows, len(features))
    return features.iloc[rows], data.iloc[rows]


def tune_hyperparameters(
    train_features: pd.DataFrame,
    train_set: pd.DataFrame,
    validation_features: pd.DataFrame,
    validation_set: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Search the model's hyperparameters on validation: log loss (binary) or
    ``params.selection_metric`` (regression, e.g. the normalized Gini).

    The model is the kind ``params.kind`` names, with its ``fixed`` hyperparameters and
    ``search_space`` from ``params.kinds.<kind>`` (``estimator.py``). A seeded TPE sampler
    and a fixed trial count (no timeout) keep the search reproducible. When ``kind`` lists
    several kinds, each gets the same search budget and the best on the same validation
    metric wins (its name is returned under ``kind``). Returns the best hyperparameters (with
    what fitting chose, e.g. the early-stopped tree count) and all trials.
    """
    target_kind = problem_type(columns)
    kinds = configured_kinds(params, target_kind)
    train_features, train_set = _row_sample(
        train_features,
        train_set,
        params["optuna"].get("max_train_rows"),
        params["seed"],
        "Optuna",
    )
    train_target = target_values(train_set, columns)
    if target_kind == MULTICLASS:
        _require_every_class(train_target, class_labels(columns))
    data = (
        train_features,
        train_target,
        validation_features,
        target_values(validation_set, columns),
        _categorical_features(train_features, columns),
    )
    results = {kind: _study(kind, data, target_kind, params) for kind in kinds}
    if len(kinds) == 1:
        best_hyperparameters, trials, _ = results[kinds[0]]
        return best_hyperparameters, trials
    direction = _direction(target_kind, params)
    sign = 1.0 if direction == "maximize" else -1.0
    # ties go to the earlier kind in the list
    chosen = max(kinds, key=lambda kind: (sign * results[kind][2], -kinds.index(kind)))
    logger.info(
        "Model kind %s chosen on validation (%s)",
        chosen,
        ", ".join(f"{kind} {results[kind][2]:.5f}" for kind in kinds),
    )
    trials = pd.concat([results[kind][1].assign(kind=kind) for kind in kinds], ignore_index=True)
    return {"kind": chosen, **results[chosen][0]}, trials


def _require_every_class(train_target: np.ndarray, labels: list[str]) -> None:
    """A classifier learns only the classes it sees: one missing from train would shift every
    later probability column, so it stops here, named."""
    missing = [label for code, label in enumerate(labels) if not (train_target == code).any()]
    if missing:
        raise ValueError(
            f"train_set has no row of the class(es) {missing} of params "
            "model_input.columns.classes: drop them from the list or use more training dates"
        )


def _direction(target_kind: str, params: dict[str, Any]) -> str:
    if target_kind != REGRESSION:
        return "minimize"  # log loss
    metric = params.get("selection_metric", "normalized_gini")
    if metric not in METRIC_HIGHER_IS_BETTER:
        raise ValueError(
            f"params model_training.model.selection_metric: {metric!r}, expected one of "
            f"{sorted(METRIC_HIGHER_IS_BETTER)}"
        )
    return "maximize" if METRIC_HIGHER_IS_BETTER[metric] else "minimize"


def _study(
    kind: str, data: tuple, target_kind: str, params: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame, float]:
    """One kind's Optuna search: its best hyperparameters, its trials, its best value."""
    train_features, train_target, validation_features, validation_target, categorical = data
    settings, tuning = kind_settings(params, kind), params["optuna"]

    def objective(trial: optuna.Trial) -> float:
        drawn = suggest(trial, settings["search_space"], f"model_training.model.kinds.{kind}")
        hyperparameters = {**settings["fixed"], **drawn}
        model = make_classifier(kind, hyperparameters)
        learned = fit_trial(
            kind,
            model,
            train_features,
            train_target,
            validation_features,
            validation_target,
            categorical,
            settings,
            trial,
        )
        for name, value in learned.items():
            trial.set_user_attr(name, value)
        if target_kind == REGRESSION:
            metric = params.get("selection_metric", "normalized_gini")
            return validation_score(metric, validation_target, model.predict(validation_features))
        probability = model.predict_proba(validation_features)
        if target_kind == MULTICLASS:
            return float(log_loss(validation_target, probability, labels=model.classes_))
        return float(log_loss(validation_target, probability[:, 1], labels=[0, 1]))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction=_direction(target_kind, params),
        sampler=optuna.samplers.TPESampler(seed=params["seed"]),
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=tuning["pruner_startup_trials"],
            n_warmup_steps=tuning["pruner_warmup_steps"],
        ),
    )
    study.optimize(objective, n_trials=tuning["n_trials"])
    best = study.best_trial
    logger.info(
        "Optuna (%s): best validation %s %.5f in trial %d of %d (%d pruned)",
        kind,
        params.get("selection_metric", "normalized_gini")
        if target_kind == REGRESSION
        else "log loss",
        best.value,
        best.number,
        len(study.trials),
        sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
    )
    # what fitting chose (LightGBM: the early-stopped tree count) wins over the fixed values
    best_hyperparameters = {**settings["fixed"], **best.params, **best.user_attrs}
    trials = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs"))
    trials["state"] = trials["state"].astype(str)
    return best_hyperparameters, trials, float(best.value)

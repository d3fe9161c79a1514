"""The models, in one place: the only code to change to add a model besides LightGBM.

``nodes.py`` builds, tunes and refits the model through ``make_classifier``, ``fit_trial``
and ``fit_final`` and never names a library. Each kind is a class with those three steps,
registered in ``KINDS``; ``parameters_model_training.yml`` picks one with
``model_training.model.kind`` and holds each kind's settings under
``model_training.model.kinds.<kind>`` (``fixed`` hyperparameters, Optuna ``search_space``, and
what its fitting reads). An environment selects another kind without touching base's
LightGBM settings (``docs/new-blueprint.md``, "Swap the model"). Each kind serves one
problem type or more (``problem_types.py``): classifiers (``predict_proba``) for ``binary``
and ``multiclass``, regressors (``predict``) for ``regression``; ``kind`` may list several
kinds of that type, each tuned alike and the best on validation kept
(``nodes.tune_hyperparameters``).
"""

from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from optuna_integration import LightGBMPruningCallback
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier

from ga4_mlops.problem_types import BINARY, MULTICLASS, REGRESSION

from .regression import TwoPartRevenueRegressor, make_tweedie_regressor, make_two_part_regressor


def _log_loss_metric(target: np.ndarray) -> str:
    """LightGBM's log loss for the target: binary (0/1) or multiclass (class codes)."""
    return "multi_logloss" if np.unique(target).size > 2 else "binary_logloss"


class LightGBM:
    """The default: LightGBM, early-stopped on validation and pruned by Optuna."""

    problem_types = (BINARY, MULTICLASS)

    @staticmethod
    def make(hyperparameters: dict[str, Any]) -> ClassifierMixin:
        return lgb.LGBMClassifier(**hyperparameters)

    @staticmethod
    def fit_trial(
        classifier: ClassifierMixin,
        train_features: pd.DataFrame,
        train_target: np.ndarray,
        validation_features: pd.DataFrame,
        validation_target: np.ndarray,
        categorical: list[str],
        settings: dict[str, Any],
        trial: optuna.Trial,
    ) -> dict[str, Any]:
        """Validation early-stops the boosting (the tree count it chose is returned and kept
        for the refit), and optuna-integration's pruning callback reports its log loss to
        Optuna every ``report_every`` rounds. The callback only reports and raises
        ``TrialPruned``: it keeps the seeded, deterministic run deterministic.
        """
        metric = _log_loss_metric(train_target)
        classifier.fit(
            train_features,
            train_target,
            eval_X=validation_features,
            eval_y=validation_target,
            eval_metric=metric,
            categorical_feature=categorical,
            callbacks=[
                lgb.early_stopping(settings["early_stopping_rounds"], verbose=False),
                LightGBMPruningCallback(trial, metric, report_interval=settings["report_every"]),
            ],
        )
        return {"n_estimators": int(classifier.best_iteration_ or classifier.n_estimators)}

    @staticmethod
    def fit_final(
        classifier: ClassifierMixin,
        features: pd.DataFrame,
        target: np.ndarray,
        categorical: list[str],
    ) -> ClassifierMixin:
        """LightGBM reads the category codes as categories."""
        return classifier.fit(features, target, categorical_feature=categorical)


class HistGradientBoosting:
    """scikit-learn's HistGradientBoostingClassifier: the same pattern with another library.

    Validation early-stops the boosting (the iterations it ran, ``n_iter_``, become the
    refit's ``max_iter``); there is no pruning callback, so every trial runs to its end.
    Category codes are read as categories (negative codes, unseen or rare, count as missing).
    """

    problem_types = (BINARY, MULTICLASS)

    @staticmethod
    def make(hyperparameters: dict[str, Any]) -> ClassifierMixin:
        return HistGradientBoostingClassifier(**hyperparameters)

    @staticmethod
    def fit_trial(
        classifier: ClassifierMixin,
        train_features: pd.DataFrame,
        train_target: np.ndarray,
        validation_features: pd.DataFrame,
        validation_target: np.ndarray,
        categorical: list[str],
        settings: dict[str, Any],
        trial: optuna.Trial,
    ) -> dict[str, Any]:
        classifier.set_params(
            categorical_features=categorical or None,
            early_stopping=True,
            n_iter_no_change=settings["early_stopping_rounds"],
        )
        classifier.fit(
            train_features, train_target, X_val=validation_features, y_val=validation_target
        )
        return {"max_iter": int(classifier.n_iter_)}

    @staticmethod
    def fit_final(
        classifier: ClassifierMixin,
        features: pd.DataFrame,
        target: np.ndarray,
        categorical: list[str],
    ) -> ClassifierMixin:
        classifier.set_params(categorical_features=categorical or None, early_stopping=False)
        return classifier.fit(features, target)


class Tweedie:
    """Predicted revenue with one LightGBM regressor, Tweedie objective (``regression.py``),
    early-stopped on validation's Tweedie deviance. Not pruned: Optuna's objective is the
    selection metric (e.g. the Gini, maximised), not the deviance LightGBM reports."""

    problem_types = (REGRESSION,)

    @staticmethod
    def make(hyperparameters: dict[str, Any]) -> BaseEstimator:
        return make_tweedie_regressor(hyperparameters)

    @staticmethod
    def fit_trial(
        regressor: BaseEstimator,
        train_features: pd.DataFrame,
        train_target: np.ndarray,
        validation_features: pd.DataFrame,
        validation_target: np.ndarray,
        categorical: list[str],
        settings: dict[str, Any],
        trial: optuna.Trial,
    ) -> dict[str, Any]:
        regressor.fit(
            train_features,
            train_target,
            eval_X=validation_features,
            eval_y=validation_target,
            categorical_feature=categorical,
            callbacks=[lgb.early_stopping(settings["early_stopping_rounds"], verbose=False)],
        )
        return {"n_estimators": int(regressor.best_iteration_ or regressor.n_estimators)}

    fit_final = LightGBM.fit_final


class TwoPart:
    """Predicted revenue as P(purchase) x E[revenue | purchase] (``regression.py``): each
    part early-stopped on validation; settings ``classifier__<name>`` / ``severity__<name>``."""

    problem_types = (REGRESSION,)

    @staticmethod
    def make(hyperparameters: dict[str, Any]) -> BaseEstimator:
        return make_two_part_regressor(hyperparameters)

    @staticmethod
    def fit_trial(
        regressor: TwoPartRevenueRegressor,
        train_features: pd.DataFrame,
        train_target: np.ndarray,
        validation_features: pd.DataFrame,
        validation_target: np.ndarray,
        categorical: list[str],
        settings: dict[str, Any],
        trial: optuna.Trial,
    ) -> dict[str, Any]:
        regressor.fit(
            train_features,
            train_target,
            eval_X=validation_features,
            eval_y=validation_target,
            early_stopping_rounds=settings["early_stopping_rounds"],
            categorical_feature=categorical,
        )
        return {f"{part}__n_estimators": n for part, n in regressor.n_estimators_.items()}

    @staticmethod
    def fit_final(
        regressor: TwoPartRevenueRegressor,
        features: pd.DataFrame,
        target: np.ndarray,
        categorical: list[str],
    ) -> BaseEstimator:
        return regressor.fit(features, target, categorical_feature=categorical)


# The kinds ``model_training.model.kind`` may name; a new model is one more class and entry.
KINDS = {
    "lightgbm": LightGBM,
    "hist_gradient_boosting": HistGradientBoosting,
    "tweedie": Tweedie,
    "two_part": TwoPart,
}


def problem_types_of(kind: str) -> tuple[str, ...]:
    """The problem types a kind serves: its ``problem_types``, else a classifier's (a new kind
    written as docs/new-blueprint.md shows needs no such line)."""
    return tuple(getattr(KINDS[kind], "problem_types", (BINARY, MULTICLASS)))


def configured_kinds(params: dict[str, Any], kind: str) -> list[str]:
    """The kinds ``model_training.model.kind`` names (one, or a list to choose from on
    validation), each checked: a class in KINDS, settings in ``kinds``, of ``kind`` (the
    problem type of ``model_input.columns``)."""
    named = params["kind"]
    kinds = [named] if isinstance(named, str) else list(named)
    for name in kinds:
        kind_settings(params, name)  # a class in KINDS and settings in kinds, or a named error
        if kind not in problem_types_of(name):
            raise ValueError(
                f"params model_training.model.kind: {name!r} is a "
                f"{'/'.join(problem_types_of(name))} model but params "
                f"model_input.columns.problem_type is {kind!r}; kinds for it: "
                f"{sorted(k for k in KINDS if kind in problem_types_of(k))}"
            )
    if not kinds:
        raise ValueError("params model_training.model.kind names no kind")
    return kinds


def kind_settings(params: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    """The settings of a configured kind (``model_training.model.kinds.<kind>``; by default
    the one ``kind`` names)."""
    kind = kind or params["kind"]
    configured = params.get("kinds") or {}
    if not isinstance(kind, str) or kind not in KINDS or kind not in configured:
        raise ValueError(
            f"params model_training.model.kind: {kind!r} needs a class in KINDS "
            f"(estimator.py: {sorted(KINDS)}) and settings in model_training.model.kinds "
            f"({sorted(configured)})"
        )
    return configured[kind]


def make_classifier(kind: str, hyperparameters: dict[str, Any]) -> ClassifierMixin:
    """An unfitted model of ``kind`` from its hyperparameters: a classifier with
    ``predict_proba`` (binary and multiclass kinds) or a regressor with ``predict``
    (regression kinds)."""
    return KINDS[kind].make(hyperparameters)


def fit_trial(kind: str, classifier: ClassifierMixin, *args: Any) -> dict[str, Any]:
    """Fit one Optuna trial on train; return what fitting chose besides the trial's values.

    Arguments after the classifier: train features and target, validation features and
    target, the categorical columns, the kind's settings and the trial.
    """
    return KINDS[kind].fit_trial(classifier, *args)


def fit_final(
    kind: str,
    classifier: ClassifierMixin,
    features: pd.DataFrame,
    target: np.ndarray,
    categorical: list[str],
) -> ClassifierMixin:
    """Fit the chosen configuration once."""
    return KINDS[kind].fit_final(classifier, features, target, categorical)

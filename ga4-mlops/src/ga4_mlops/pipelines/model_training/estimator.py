"""The classifiers, in one place: the only code to change to add a model besides LightGBM.

``nodes.py`` builds, tunes and refits the model through ``make_classifier``, ``fit_trial``
and ``fit_final`` and never names a library. Each kind is a class with those three steps,
registered in ``KINDS``; ``parameters_model_training.yml`` picks one with
``model_training.model.kind`` and holds each kind's settings under
``model_training.model.kinds.<kind>`` (``fixed`` hyperparameters, Optuna ``search_space``, and
what its fitting reads). An environment selects another kind without touching base's
LightGBM settings (``docs/new-blueprint.md``, "Swap the model").
"""

from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from optuna_integration import LightGBMPruningCallback
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier


class LightGBM:
    """The default: LightGBM, early-stopped on validation and pruned by Optuna."""

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
        classifier.fit(
            train_features,
            train_target,
            eval_X=validation_features,
            eval_y=validation_target,
            eval_metric="binary_logloss",
            categorical_feature=categorical,
            callbacks=[
                lgb.early_stopping(settings["early_stopping_rounds"], verbose=False),
                LightGBMPruningCallback(
                    trial, "binary_logloss", report_interval=settings["report_every"]
                ),
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


# The kinds ``model_training.model.kind`` may name; a new model is one more class and entry.
KINDS = {"lightgbm": LightGBM, "hist_gradient_boosting": HistGradientBoosting}


def kind_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The settings of the configured kind (``model_training.model.kinds.<kind>``)."""
    kind = params["kind"]
    configured = params.get("kinds") or {}
    if kind not in KINDS or kind not in configured:
        raise ValueError(
            f"params model_training.model.kind: {kind!r} needs a class in KINDS "
            f"(estimator.py: {sorted(KINDS)}) and settings in model_training.model.kinds "
            f"({sorted(configured)})"
        )
    return configured[kind]


def make_classifier(kind: str, hyperparameters: dict[str, Any]) -> ClassifierMixin:
    """An unfitted classifier of ``kind`` with ``predict_proba``, from its hyperparameters."""
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

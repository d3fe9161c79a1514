"""The classifier, in one place: the only code to change to swap LightGBM for another model.

``nodes.py`` builds, tunes and refits the model through these three functions and never
names LightGBM; ``parameters_model_training.yml`` holds its hyperparameters and search
space. Another scikit-learn classifier means editing this file and that one
(``docs/new-blueprint.md``, "Swap the model").
"""

from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from optuna_integration import LightGBMPruningCallback
from sklearn.base import ClassifierMixin


def make_classifier(hyperparameters: dict[str, Any]) -> ClassifierMixin:
    """An unfitted classifier with ``predict_proba``, from fixed + tuned hyperparameters."""
    return lgb.LGBMClassifier(**hyperparameters)


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
    """Fit one Optuna trial on train; return what fitting chose besides the trial's values.

    Validation early-stops the boosting (the tree count it chose is returned and kept for the
    refit), and optuna-integration's pruning callback reports its log loss to Optuna every
    ``report_every`` rounds. The callback only reports and raises ``TrialPruned``: it keeps
    the seeded, deterministic run deterministic.
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
                trial, "binary_logloss", report_interval=settings["optuna"]["report_every"]
            ),
        ],
    )
    return {"n_estimators": int(classifier.best_iteration_ or classifier.n_estimators)}


def fit_final(
    classifier: ClassifierMixin,
    features: pd.DataFrame,
    target: np.ndarray,
    categorical: list[str],
) -> ClassifierMixin:
    """Fit the chosen configuration once (LightGBM reads the category codes as categories)."""
    return classifier.fit(features, target, categorical_feature=categorical)

"""Train the baseline and the model (``estimator.py``), tune it with Optuna, calibrate it.

Every split plays one role: train fits, validation tunes and early-stops, calibration fits
the calibrator, test only measures (in model_evaluation). Nothing here ever sees test labels.
``model_input.columns.problem_type`` picks what each step does: a binary target gets a
logistic baseline, log-loss tuning and probability calibration; a regression target
(predicted revenue) the lookback baseline, tuning on ``model.selection_metric`` and the
total's calibration (``regression_steps.py``); a multiclass target a multinomial logistic
baseline, multiclass log-loss tuning and no calibration (the issue's scope: binary only).
"""

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline as SklearnPipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.metaestimators import available_if

from ga4_mlops.problem_types import (
    MULTICLASS,
    REGRESSION,
    class_score_columns,
    problem_type,
    score_column,
    target_values,
)

from .estimator import fit_final, make_classifier
from .regression_steps import LookbackBaseline, fit_regression_calibration
from .tuning import _categorical_features, _row_sample, tune_hyperparameters

__all__ = ["tune_hyperparameters"]  # a node of this pipeline, defined in tuning.py

logger = logging.getLogger(__name__)


def _target(data: pd.DataFrame, columns: dict[str, Any]) -> np.ndarray:
    return target_values(data, columns)


def train_baseline(
    train_features: pd.DataFrame,
    train_set: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> SklearnPipeline:
    """A logistic regression on scaled numerics and one-hot categories: the bar to beat
    (multinomial for a multiclass target).

    Regression: ``LookbackBaseline`` on ``params.column`` (the lookback window's revenue).
    """
    if problem_type(columns) == REGRESSION:
        baseline = LookbackBaseline(params["column"], params.get("scale", 1.0))
        return baseline.fit(train_features, _target(train_set, columns))
    categorical = _categorical_features(train_features, columns)
    numeric = [column for column in train_features.columns if column not in categorical]
    model = SklearnPipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        ("numeric", StandardScaler(), numeric),
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(C=params["C"], max_iter=params["max_iter"])),
        ]
    )
    return model.fit(train_features, _target(train_set, columns))


def train_model(
    train_features: pd.DataFrame,
    train_set: pd.DataFrame,
    columns: dict[str, Any],
    best_hyperparameters: dict[str, Any],
    params: dict[str, Any],
    validation_features: pd.DataFrame | None = None,
    validation_set: pd.DataFrame | None = None,
) -> ClassifierMixin:
    """Refit the best configuration on train + validation with the early-stopped tree count.

    Measured on the default data (README): against the early-stopped model (train only), the
    refit raised test ROC-AUC by 0.001-0.004 and lowered test log loss for each of three
    bagging seeds, so the validation rows are worth learning from once tuning is done.
    Without validation frames it refits on train alone. ``params.kind`` names the model;
    ``params.max_refit_rows`` bounds the rows (a seeded sample when there are more; null or
    absent: all): at 10x the public sample the refit on 4.4 M rows alone took 4 minutes of
    the 20-minute budget.
    """
    if validation_features is not None and validation_set is not None:
        train_features = pd.concat([train_features, validation_features])
        train_set = pd.concat([train_set, validation_set])
    train_features, train_set = _row_sample(
        train_features, train_set, params.get("max_refit_rows"), params["seed"], "refit"
    )
    # a list of kinds: the one tuning chose (``kind`` in its result)
    kind = params["kind"] if isinstance(params["kind"], str) else best_hyperparameters["kind"]
    hyperparameters = {
        name: value for name, value in best_hyperparameters.items() if name != "kind"
    }
    return fit_final(
        kind,
        make_classifier(kind, hyperparameters),
        train_features,
        _target(train_set, columns),
        _categorical_features(train_features, columns),
    )


CALIBRATION_METHODS = ("none", "sigmoid", "isotonic")


class _ScoreColumn(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier whose score is its input's one column.

    The calibration methods are compared on out-of-fold predictions of the frozen model:
    scoring the model once and calibrating its scores gives the same folds and numbers as
    wrapping the model itself, without predicting every calibration row about 20 times
    (methods x folds x scikit-learn's inner folds: minutes at 10x the public sample). The
    column holds what scikit-learn would take from the model: ``decision_function`` when it
    has one (LightGBM's raw margin), else the positive class's probability.
    """

    def __init__(self, response: str = "predict_proba") -> None:
        self.response = response
        self.classes_ = np.array([0, 1])

    def fit(self, scores: np.ndarray, target: np.ndarray | None = None) -> "_ScoreColumn":
        return self

    @available_if(lambda self: self.response == "decision_function")
    def decision_function(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(scores, dtype=np.float64).reshape(-1)

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        column = np.asarray(scores, dtype=np.float64).reshape(-1)
        positive = expit(column) if self.response == "decision_function" else column
        return np.column_stack([1.0 - positive, positive])

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return (self.predict_proba(scores)[:, 1] >= 0.5).astype(int)


def _model_scores(model: ClassifierMixin, features: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The model's scores as scikit-learn's calibration reads them, and which response."""
    if hasattr(model, "decision_function"):
        return model.decision_function(features).reshape(-1, 1), "decision_function"
    return model.predict_proba(features)[:, 1].reshape(-1, 1), "predict_proba"


def _calibrated(model: ClassifierMixin, method: str) -> ClassifierMixin:
    """The frozen model, or scikit-learn's calibrator around it (the model is never refitted)."""
    if method == "none":
        return FrozenEstimator(model)
    return CalibratedClassifierCV(FrozenEstimator(model), method=method)


def fit_calibrator(
    model: ClassifierMixin,
    calibration_features: pd.DataFrame,
    calibration_set: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> tuple[ClassifierMixin, dict[str, Any], dict[str, dict[str, float]]]:
    """Choose and fit the calibration on the calibration split only: never train, never test.

    Each method in ``params.methods`` (``none``, ``sigmoid``, ``isotonic``) is scored by the
    log loss of out-of-fold predictions over seeded stratified folds of the calibration split;
    the lowest wins (ties go to the earlier, simpler method) and is refitted on the whole
    split. Isotonic overfits small splits (scores of exactly 0 or 1 cost a huge log loss on
    the held-out fold), sigmoid cannot fix a non-monotone miscalibration: the data decide.
    scikit-learn's sigmoid is Platt scaling of the predicted probability (LightGBM has no
    ``decision_function``). Returns the calibrated classifier (``predict_proba`` on encoded
    features), the choice with every method's log loss, and the same as MLflow metrics.
    Regression: ``none`` or one factor for the total (``regression_steps.py``). Multiclass:
    ``none`` (the frozen model), recorded as such.
    """
    if problem_type(columns) == REGRESSION:
        target = _target(calibration_set, columns)
        return fit_regression_calibration(model, calibration_features, target, params)
    if problem_type(columns) == MULTICLASS:
        selection = {
            "method": "none",
            "reason": "calibration is fitted for binary targets only",
            "calibration_rows": len(calibration_set),
        }
        return FrozenEstimator(model), selection, {}
    methods = list(params["methods"])
    unknown = [method for method in methods if method not in CALIBRATION_METHODS]
    if unknown or not methods:
        raise ValueError(
            f"params model_training.calibration.methods must be a non-empty list of "
            f"{list(CALIBRATION_METHODS)}, got {params['methods']!r}"
        )
    target = _target(calibration_set, columns)
    folds = StratifiedKFold(n_splits=params["cv_folds"], shuffle=True, random_state=params["seed"])
    scores, response = _model_scores(model, calibration_features)
    cv_log_loss = {}
    for method in methods:
        out_of_fold = cross_val_predict(
            _calibrated(_ScoreColumn(response), method),
            scores,
            target,
            cv=folds,
            method="predict_proba",
        )[:, 1]
        cv_log_loss[method] = float(log_loss(target, out_of_fold, labels=[0, 1]))
    chosen = min(methods, key=lambda method: cv_log_loss[method])
    logger.info(
        "Calibration: %s chosen by %d-fold log loss on the calibration split (%s)",
        chosen,
        params["cv_folds"],
        ", ".join(f"{method} {value:.5f}" for method, value in cv_log_loss.items()),
    )
    selection = {
        "method": chosen,
        "cv_log_loss": cv_log_loss,
        "cv_folds": int(params["cv_folds"]),
        "calibration_rows": len(target),
    }
    metrics = {
        f"cv_log_loss.{method}": {"value": value, "step": 0}
        for method, value in cv_log_loss.items()
    }
    calibrator = _calibrated(model, chosen).fit(calibration_features, target)
    return calibrator, selection, metrics


def predict_test_set(
    test_set: pd.DataFrame,
    test_features: pd.DataFrame,
    baseline_model: SklearnPipeline,
    model: ClassifierMixin,
    calibrator: ClassifierMixin,
    columns: dict[str, Any],
) -> pd.DataFrame:
    """Scores of all three models on the held-out test split, next to ids and labels:
    ``<role>_probability`` (binary), ``<role>_prediction`` (regression, amounts) or one
    ``<role>_probability_<class>`` per class (multiclass)."""
    kind = problem_type(columns)
    if kind == MULTICLASS:
        parts = [test_set[[*columns["id"], columns["target"]]].reset_index(drop=True)]
        for role, fitted in (
            ("baseline", baseline_model),
            ("raw", model),
            ("calibrated", calibrator),
        ):
            parts.append(
                pd.DataFrame(
                    fitted.predict_proba(test_features),
                    columns=class_score_columns(role, columns),
                )
            )
        return pd.concat(parts, axis=1).set_axis(test_set.index)
    if kind == REGRESSION:
        predictions = test_set[[*columns["id"], columns["target"]]].copy()
        for role, fitted in (
            ("baseline", baseline_model),
            ("raw", model),
            ("calibrated", calibrator),
        ):
            predictions[score_column(role, kind)] = fitted.predict(test_features)
        return predictions
    raw_probability = model.predict_proba(test_features)[:, 1]
    predictions = test_set[[*columns["id"], columns["target"]]].copy()
    predictions["baseline_probability"] = baseline_model.predict_proba(test_features)[:, 1]
    predictions["raw_probability"] = raw_probability
    predictions["calibrated_probability"] = calibrator.predict_proba(test_features)[:, 1]
    return predictions


def calibration_method(calibrator: BaseEstimator) -> str:
    """The method a fitted calibrator applies: ``none`` for the frozen model alone, else its
    ``method`` (a calibrator without one is named by its class)."""
    if isinstance(calibrator, FrozenEstimator):
        return "none"
    return str(getattr(calibrator, "method", type(calibrator).__name__))

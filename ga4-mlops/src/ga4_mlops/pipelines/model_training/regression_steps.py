"""The regression problem type's baseline and calibration (``nodes.py`` dispatches to them).

Predicted revenue's bar is GA4's naive forecast, what the user spent in the lookback window;
its calibration is one factor for the total, because a ranking can be right while the
amounts add up wrong (a Tweedie fit under-predicted the total by a quarter or more on the
default data before early stopping). Both are scikit-learn regressors, pickled with the
model and served by ``scoring_model.py``.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import KFold

from ga4_mlops.pipelines.model_evaluation.regression_metrics import rmse, total_relative_error
from ga4_mlops.revenue_models import ScaledRegressor

logger = logging.getLogger(__name__)

REGRESSION_CALIBRATION_METHODS = ("none", "scale")


class LookbackBaseline(RegressorMixin, BaseEstimator):
    """Predicted amount = one feature (the lookback window's revenue) times ``scale``.

    With a 28-day lookback and a 28-day horizon the scale is 1: next month's revenue is
    forecast as last month's. Nothing is learned; ``fit`` only checks the column exists.
    """

    def __init__(self, column: str = "revenue_usd_lookback", scale: float = 1.0) -> None:
        self.column = column
        self.scale = scale

    def fit(self, X: pd.DataFrame, y: Any = None) -> "LookbackBaseline":
        if self.column not in X.columns:
            raise ValueError(
                f"params model_training.baseline.column: {self.column!r} is not a feature; "
                f"the features are {sorted(X.columns)}"
            )
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        values = X[self.column].to_numpy(dtype="float64") * float(self.scale)
        return np.clip(values, 0.0, None)


def scale_factor(actual: np.ndarray, predicted: np.ndarray) -> float:
    """The factor that makes the predicted total the actual one (1 when nothing is predicted)."""
    total = float(np.sum(predicted))
    return float(np.sum(actual)) / total if total > 0 else 1.0


def fit_regression_calibration(
    model: BaseEstimator,
    calibration_features: pd.DataFrame,
    target: np.ndarray,
    params: dict[str, Any],
) -> tuple[BaseEstimator, dict[str, Any], dict[str, dict[str, float]]]:
    """Choose ``none`` or ``scale`` on the calibration split by out-of-fold RMSE.

    Each of ``cv_folds`` seeded folds is predicted with the factor fitted on the other folds;
    the lowest RMSE wins (ties: the earlier method) and is refitted on the whole split. The
    out-of-fold relative error of the total is reported beside it.
    """
    methods = list(params["methods"])
    unknown = [method for method in methods if method not in REGRESSION_CALIBRATION_METHODS]
    if unknown or not methods:
        raise ValueError(
            "params model_training.calibration.methods must be a non-empty list of "
            f"{list(REGRESSION_CALIBRATION_METHODS)} for problem_type regression, "
            f"got {params['methods']!r}"
        )
    predicted = np.asarray(model.predict(calibration_features), dtype="float64")
    folds = KFold(n_splits=params["cv_folds"], shuffle=True, random_state=params["seed"])
    out_of_fold = {method: predicted.copy() for method in methods}
    if "scale" in methods:
        for fitted, held_out in folds.split(predicted):
            factor = scale_factor(target[fitted], predicted[fitted])
            out_of_fold["scale"][held_out] = predicted[held_out] * factor
    cv_rmse = {method: rmse(target, values) for method, values in out_of_fold.items()}
    cv_total = {
        method: total_relative_error(target, values) for method, values in out_of_fold.items()
    }
    chosen = min(methods, key=lambda method: cv_rmse[method])
    factor = scale_factor(target, predicted)
    logger.info(
        "Calibration: %s chosen by %d-fold RMSE on the calibration split (%s); whole-split "
        "factor %.4f",
        chosen,
        params["cv_folds"],
        ", ".join(f"{method} {value:.4f}" for method, value in cv_rmse.items()),
        factor,
    )
    selection = {
        "method": chosen,
        "cv_rmse": cv_rmse,
        "cv_total_relative_error": cv_total,
        "scale_factor": factor if chosen == "scale" else 1.0,
        "cv_folds": int(params["cv_folds"]),
        "calibration_rows": len(target),
    }
    metrics = {
        f"cv_rmse.{method}": {"value": value, "step": 0} for method, value in cv_rmse.items()
    }
    calibrator = FrozenEstimator(model) if chosen == "none" else ScaledRegressor(model, factor)
    return calibrator, selection, metrics

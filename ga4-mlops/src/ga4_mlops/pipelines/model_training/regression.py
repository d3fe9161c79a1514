"""Predicted revenue (GA4's third predictive metric): two zero-inflated models and a chooser.

Revenue in the next ``horizon_days`` (``revenue_usd_horizon``) is 0 for most users and
right-skewed for the few buyers. Two LightGBM models predict its expectation, both with
scikit-learn's estimator API (``fit(X, y)``, ``predict(X)`` >= 0), deterministic for a seed
(``deterministic`` + ``force_col_wise`` + a fixed thread count, 1 unless configured):

* ``tweedie``: one ``lightgbm.LGBMRegressor`` with the Tweedie objective (log link), whose
  compound Poisson-gamma distribution has a point mass at 0 and a continuous positive part:
  exactly the shape of this target. ``tweedie_variance_power`` (between 1, Poisson, and 2,
  gamma) is a hyperparameter; the intended Optuna entry, in the format of
  ``ga4_mlops.search_space``, is ``tweedie_variance_power: {type: float, low: 1.2, high: 1.6}``.
* ``two_part``: ``TwoPartRevenueRegressor``, P(purchase) from an ``LGBMClassifier`` times
  E[revenue | purchase] from an ``LGBMRegressor`` fitted on buyers only.

``choose_revenue_model`` picks one of the fitted models on the validation split by a
configured metric (default: normalized Gini, ties broken by RMSE). The training pipeline
reaches both through ``estimator.py``'s kinds ``tweedie`` and ``two_part``; Optuna's
objective is ``validation_score`` of the same metric.
"""

from collections.abc import Mapping
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin

from ga4_mlops.pipelines.model_evaluation.regression_metrics import (
    decile_calibration_error,
    mae,
    normalized_gini,
    regression_report,
    rmse,
    total_relative_error,
)
from ga4_mlops.revenue_models import (
    TwoPartRevenueRegressor,
    _lightgbm_settings,
    _validated_target,
)

DEFAULT_TWEEDIE_VARIANCE_POWER = 1.4


def make_tweedie_regressor(
    hyperparameters: Mapping[str, Any] | None = None, seed: int = 0, n_jobs: int = 1
) -> lgb.LGBMRegressor:
    """An unfitted ``LGBMRegressor`` with the Tweedie objective.

    ``hyperparameters`` override the defaults (``tweedie_variance_power`` 1.4, the
    deterministic settings, ``random_state=seed``, ``n_jobs``). Its predictions are
    ``exp(raw score)``: expected revenue, always > 0.
    """
    settings = {
        "objective": "tweedie",
        "tweedie_variance_power": DEFAULT_TWEEDIE_VARIANCE_POWER,
        **_lightgbm_settings(hyperparameters, seed, n_jobs),
    }
    if settings["objective"] != "tweedie":
        raise ValueError(
            f"the tweedie model needs objective 'tweedie', got {settings['objective']!r}"
        )
    return lgb.LGBMRegressor(**settings)


def make_two_part_regressor(
    hyperparameters: Mapping[str, Any] | None = None, seed: int = 0, n_jobs: int = 1
) -> TwoPartRevenueRegressor:
    """An unfitted ``TwoPartRevenueRegressor``; ``hyperparameters`` are its ``__init__``
    arguments (``classifier_params``, ``severity_params``, ``severity_objective``), or flat
    ``classifier__<name>`` / ``severity__<name>`` keys (scikit-learn's nested-parameter
    spelling, the one Optuna's flat search space and the config use) folded into them."""
    settings: dict[str, Any] = {"random_state": seed, "n_jobs": n_jobs}
    parts: dict[str, dict[str, Any]] = {"classifier": {}, "severity": {}}
    for name, value in (hyperparameters or {}).items():
        part, _, key = name.partition("__")
        if key and part in parts:
            parts[part][key] = value
        else:
            settings[name] = value
    for part, values in parts.items():
        if values:
            settings[f"{part}_params"] = {**(settings.get(f"{part}_params") or {}), **values}
    return TwoPartRevenueRegressor(**settings)


# The revenue model kinds, as ``estimator.KINDS`` lists the classifiers.
REVENUE_KINDS = {"tweedie": make_tweedie_regressor, "two_part": make_two_part_regressor}


def make_revenue_model(
    kind: str,
    hyperparameters: Mapping[str, Any] | None = None,
    seed: int = 0,
    n_jobs: int = 1,
) -> RegressorMixin:
    """An unfitted revenue model of ``kind`` (``REVENUE_KINDS``)."""
    if kind not in REVENUE_KINDS:
        raise ValueError(f"revenue model kind {kind!r}: expected one of {sorted(REVENUE_KINDS)}")
    return REVENUE_KINDS[kind](hyperparameters, seed=seed, n_jobs=n_jobs)


# Metrics the chooser may use, and whether higher is better (columns of regression_report;
# ``abs_total_relative_error`` is |total_relative_error|).
METRIC_HIGHER_IS_BETTER = {
    "normalized_gini": True,
    "rmse": False,
    "mae": False,
    "decile_calibration_error": False,
    "abs_total_relative_error": False,
}


# The chooser's metrics by name (abs_total_relative_error: |total_relative_error|).
METRICS = {
    "normalized_gini": normalized_gini,
    "rmse": rmse,
    "mae": mae,
    "decile_calibration_error": decile_calibration_error,
}


def validation_score(metric: str, y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """One chooser metric (``METRIC_HIGHER_IS_BETTER``) of predictions: Optuna's objective.
    The metric alone, from regression_metrics.py (the report's other columns are not needed
    on every trial)."""
    if metric not in METRIC_HIGHER_IS_BETTER:
        raise ValueError(
            f"params model_training.model.selection_metric: {metric!r}, expected one of "
            f"{sorted(METRIC_HIGHER_IS_BETTER)}"
        )
    if metric == "abs_total_relative_error":
        return abs(total_relative_error(y_true, y_pred))
    return float(METRICS[metric](y_true, y_pred))


def _best(table: pd.DataFrame, metric: str, candidates: list[int], tolerance: float) -> list[int]:
    """Positions among ``candidates`` whose ``metric`` is within ``tolerance`` of the best."""
    if metric not in METRIC_HIGHER_IS_BETTER:
        raise ValueError(f"metric {metric!r}: expected one of {sorted(METRIC_HIGHER_IS_BETTER)}")
    values = table[metric].to_numpy(dtype="float64")[candidates]
    sign = 1.0 if METRIC_HIGHER_IS_BETTER[metric] else -1.0
    scores = sign * values
    return [c for c, s in zip(candidates, scores, strict=True) if s >= scores.max() - tolerance]


def choose_revenue_model(
    models: Mapping[str, RegressorMixin],
    validation_features: pd.DataFrame | np.ndarray,
    validation_target: ArrayLike,
    metric: str = "normalized_gini",
    tie_break: str = "rmse",
    tolerance: float = 1e-9,
) -> tuple[str, pd.DataFrame]:
    """The name of the fitted model best on validation, and the table of all of them.

    Each model predicts ``validation_features``; the table is ``regression_report`` of
    those predictions plus ``abs_total_relative_error`` and ``chosen``. The best by
    ``metric`` wins; models within ``tolerance`` of it are a tie, broken by ``tie_break``
    (again within ``tolerance``), then by the order of ``models``. The default metric is the
    normalized Gini: ranking the spenders is what audiences use, and it does not depend on
    scale, which a later recalibration could fix; RMSE breaks ties because it rewards the
    right mean.
    """
    if not models:
        raise ValueError("models is empty: expected at least one {name: fitted model}")
    target = _validated_target(validation_target)
    predictions = {name: model.predict(validation_features) for name, model in models.items()}
    table = regression_report(target, predictions)
    table["abs_total_relative_error"] = table["total_relative_error"].abs()
    candidates = _best(table, metric, list(range(len(table))), tolerance)
    if len(candidates) > 1:
        candidates = _best(table, tie_break, candidates, tolerance)
    chosen = str(table["model"].iloc[candidates[0]])
    table["chosen"] = table["model"] == chosen
    return chosen, table

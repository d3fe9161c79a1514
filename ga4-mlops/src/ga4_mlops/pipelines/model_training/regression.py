"""Predicted revenue (GA4's third predictive metric): two zero-inflated models and a chooser.

Revenue in the next ``horizon_days`` (``revenue_usd_horizon``) is 0 for most users and
right-skewed for the few buyers. Two LightGBM models predict its expectation, both with
scikit-learn's estimator API (``fit(X, y)``, ``predict(X)`` >= 0), deterministic for a seed
(``deterministic`` + ``force_col_wise`` + a fixed thread count, 1 unless configured):

* ``tweedie``: one ``lightgbm.LGBMRegressor`` with the Tweedie objective (log link), whose
  compound Poisson-gamma distribution has a point mass at 0 and a continuous positive part:
  exactly the shape of this target. ``tweedie_variance_power`` (between 1, Poisson, and 2,
  gamma) is a hyperparameter; the intended Optuna entry, in the format ``nodes._suggest``
  reads, is ``tweedie_variance_power: {type: float, low: 1.2, high: 1.6}``.
* ``two_part``: ``TwoPartRevenueRegressor``, P(purchase) from an ``LGBMClassifier`` times
  E[revenue | purchase] from an ``LGBMRegressor`` fitted on buyers only.

``choose_revenue_model`` picks one of the fitted models on the validation split by a
configured metric (default: normalized Gini, ties broken by RMSE). Not wired into the
pipelines yet; ``REVENUE_KINDS`` and ``make_revenue_model`` mirror ``estimator.py``.
"""

from collections.abc import Mapping
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ga4_mlops.pipelines.model_evaluation.regression_metrics import regression_report

# Settings every LightGBM fit here gets (besides the seed and the thread count): the same
# seed then gives the same model bit for bit, as in parameters_model_training.yml.
DETERMINISTIC = {"deterministic": True, "force_col_wise": True, "verbosity": -1}

DEFAULT_TWEEDIE_VARIANCE_POWER = 1.4


def _lightgbm_settings(params: Mapping[str, Any] | None, seed: int, n_jobs: int) -> dict:
    """The caller's hyperparameters over the deterministic defaults, seed and thread count."""
    return {**DETERMINISTIC, "random_state": seed, "n_jobs": n_jobs, **(params or {})}


def _validated_target(y: ArrayLike) -> np.ndarray:
    """Revenue as a finite, non-negative float array."""
    target = np.asarray(y, dtype="float64").ravel()
    if not np.isfinite(target).all():
        raise ValueError("revenue target must be finite (drop rows whose label is missing)")
    if (target < 0).any():
        raise ValueError("revenue target must be >= 0 (refunds are not modelled)")
    return target


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


class TwoPartRevenueRegressor(RegressorMixin, BaseEstimator):
    """Expected revenue = P(purchase | x) * E[revenue | purchase, x].

    The first part is an ``LGBMClassifier`` (``binary``) on every row with the label
    ``revenue > 0``; the second an ``LGBMRegressor`` on the buyers only, with the ``gamma``
    objective by default (``severity_objective``; ``tweedie`` also works).

    Why gamma and not a regression on log(revenue): the gamma deviance with its log link is
    minimised by the conditional *mean*, which is what the product needs, and it suits a
    positive, right-skewed amount whose spread grows with its level. A least-squares fit on
    log(revenue) estimates E[log revenue]; exponentiated, that is the geometric mean, below
    the mean by about exp(sigma^2 / 2), so the total would be under-predicted unless a
    smearing correction were added. The buyers' part is small, so its
    ``min_child_samples`` defaults lower than LightGBM's (``severity_params`` override).

    ``classifier_params`` / ``severity_params`` are LightGBM hyperparameters of each part;
    ``random_state`` and ``n_jobs`` go to both. ``predict`` returns values >= 0.
    """

    def __init__(
        self,
        classifier_params: Mapping[str, Any] | None = None,
        severity_params: Mapping[str, Any] | None = None,
        severity_objective: str = "gamma",
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.classifier_params = classifier_params
        self.severity_params = severity_params
        self.severity_objective = severity_objective
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: pd.DataFrame | np.ndarray, y: ArrayLike) -> "TwoPartRevenueRegressor":
        if self.severity_objective not in ("gamma", "tweedie"):
            raise ValueError(
                f"severity_objective must be 'gamma' or 'tweedie', got {self.severity_objective!r}"
            )
        target = _validated_target(y)
        if len(X) != target.size:
            raise ValueError(f"X has {len(X)} rows but y has {target.size} values")
        bought = target > 0
        if bought.all() or not bought.any():
            raise ValueError(
                "the two-part model needs both buyers (revenue > 0) and non-buyers in y"
            )
        self.classifier_ = lgb.LGBMClassifier(
            **{
                "objective": "binary",
                **_lightgbm_settings(self.classifier_params, self.random_state, self.n_jobs),
            }
        ).fit(X, bought.astype("int64"))
        buyers = X[bought] if isinstance(X, pd.DataFrame) else np.asarray(X)[bought]
        self.severity_ = lgb.LGBMRegressor(
            **{
                "objective": self.severity_objective,
                "min_child_samples": 10,
                **_lightgbm_settings(self.severity_params, self.random_state, self.n_jobs),
            }
        ).fit(buyers, target[bought])
        self.n_features_in_ = self.classifier_.n_features_in_
        return self

    def predict_purchase_probability(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """P(revenue > 0 | x): the first part alone."""
        check_is_fitted(self, ["classifier_", "severity_"])
        return self.classifier_.predict_proba(X)[:, 1]

    def predict_revenue_if_purchase(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """E[revenue | revenue > 0, x]: the second part alone."""
        check_is_fitted(self, ["classifier_", "severity_"])
        return np.clip(self.severity_.predict(X), 0.0, None)

    def predict(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Expected revenue: the product of the two parts (>= 0)."""
        return self.predict_purchase_probability(X) * self.predict_revenue_if_purchase(X)


def make_two_part_regressor(
    hyperparameters: Mapping[str, Any] | None = None, seed: int = 0, n_jobs: int = 1
) -> TwoPartRevenueRegressor:
    """An unfitted ``TwoPartRevenueRegressor``; ``hyperparameters`` are its ``__init__``
    arguments (``classifier_params``, ``severity_params``, ``severity_objective``)."""
    return TwoPartRevenueRegressor(
        **{"random_state": seed, "n_jobs": n_jobs, **(hyperparameters or {})}
    )


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

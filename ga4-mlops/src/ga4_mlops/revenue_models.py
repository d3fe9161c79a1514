"""Predicted revenue's served classes: plain scikit-learn estimators, no Kedro.

The registered model pickles the fitted regressor and its calibrator; scoring loads them with
``scoring_model.py`` where Kedro is not installed, so their classes live here, beside it, and
not in a pipeline package (whose ``__init__`` imports Kedro). ``pipelines/model_training``
builds, tunes and chooses them (``regression.py``, ``regression_steps.py``).
"""

from collections.abc import Mapping
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

# Settings every LightGBM fit here gets (besides the seed and the thread count): the same
# seed then gives the same model bit for bit, as in parameters_model_training.yml.
DETERMINISTIC = {"deterministic": True, "force_col_wise": True, "verbosity": -1}


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

    def fit(
        self,
        X: pd.DataFrame | np.ndarray,
        y: ArrayLike,
        eval_X: pd.DataFrame | np.ndarray | None = None,
        eval_y: ArrayLike | None = None,
        early_stopping_rounds: int | None = None,
        categorical_feature: list[str] | str = "auto",
    ) -> "TwoPartRevenueRegressor":
        """Fit both parts; with ``eval_X``/``eval_y`` and ``early_stopping_rounds`` each part
        early-stops on the validation rows it would be judged on (all rows' purchase log loss,
        the buyers' deviance), and ``n_estimators_`` holds the rounds each kept."""
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
        stopping = eval_X is not None and eval_y is not None and early_stopping_rounds
        if stopping:
            eval_target = _validated_target(eval_y)
            eval_bought = eval_target > 0
        self.classifier_ = lgb.LGBMClassifier(
            **{
                "objective": "binary",
                **_lightgbm_settings(self.classifier_params, self.random_state, self.n_jobs),
            }
        )
        self.classifier_.fit(
            X,
            bought.astype("int64"),
            categorical_feature=categorical_feature,
            **(
                {
                    "eval_X": eval_X,
                    "eval_y": eval_bought.astype("int64"),
                    "callbacks": [lgb.early_stopping(early_stopping_rounds, verbose=False)],
                }
                if stopping
                else {}
            ),
        )
        self.severity_ = lgb.LGBMRegressor(
            **{
                "objective": self.severity_objective,
                "min_child_samples": 10,
                **_lightgbm_settings(self.severity_params, self.random_state, self.n_jobs),
            }
        )
        self.severity_.fit(
            _rows(X, bought),
            target[bought],
            categorical_feature=categorical_feature,
            **(
                {
                    "eval_X": _rows(eval_X, eval_bought),
                    "eval_y": eval_target[eval_bought],
                    "callbacks": [lgb.early_stopping(early_stopping_rounds, verbose=False)],
                }
                if stopping and eval_bought.any()
                else {}
            ),
        )
        self.n_estimators_ = {
            part: int(model.best_iteration_ or model.n_estimators)
            for part, model in (("classifier", self.classifier_), ("severity", self.severity_))
        }
        self.n_features_in_ = self.classifier_.n_features_in_
        if hasattr(self.classifier_, "feature_names_in_"):
            self.feature_names_in_ = self.classifier_.feature_names_in_
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


def _rows(X: pd.DataFrame | np.ndarray, mask: np.ndarray) -> pd.DataFrame | np.ndarray:
    return X[mask] if isinstance(X, pd.DataFrame) else np.asarray(X)[mask]


class ScaledRegressor(RegressorMixin, BaseEstimator):
    """A fitted regressor whose predictions are multiplied by one factor (``method`` scale):
    the regression calibration, fitted on the calibration split (``regression_steps.py``)."""

    method = "scale"

    def __init__(self, estimator: BaseEstimator, factor: float = 1.0) -> None:
        self.estimator = estimator
        self.factor = factor

    def fit(self, X: Any = None, y: Any = None) -> "ScaledRegressor":
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.estimator.predict(X) * float(self.factor)

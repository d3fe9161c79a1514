"""Measure predicted revenue (GA4's third predictive metric): error, ranking, calibration, total.

Revenue in the next ``horizon_days`` is zero for almost every user and heavy-tailed for the
few buyers, so no single number judges a model: RMSE and MAE measure the error per user,
the normalized Gini measures whether the users who spend most are ranked first (what an
audience of "top predicted spenders" needs), calibration by decile and the relative error
of the total measure whether the amounts add up (what a budget or an LTV bid multiplies).

The functions take ``y_true`` (realised revenue, ``revenue_usd_horizon``) and predictions of
expected revenue over the same horizon. ``regression_report`` compares several predictors,
e.g. the model, the baseline ``revenue_usd_lookback`` and the generator's oracle
(``oracle_expected_revenue``). The baseline is revenue over the lookback window (28 days),
not over the label horizon: scaling it to the horizon (e.g. ``* horizon_days / 28``) is the
caller's choice and is not done here. The scale does not change its normalized Gini (a
ranking metric) but does change its RMSE, MAE, calibration and total.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .grouping import calibration_bins


def _validated_arrays(
    y_true: ArrayLike, y_pred: ArrayLike, name: str = "y_pred"
) -> tuple[np.ndarray, np.ndarray]:
    """Finite float arrays of the same, non-zero length."""
    actual = np.asarray(y_true, dtype="float64").ravel()
    predicted = np.asarray(y_pred, dtype="float64").ravel()
    if actual.shape != predicted.shape:
        raise ValueError(
            f"y_true has {actual.size} values but {name} has {predicted.size}: "
            "expected equal lengths"
        )
    if actual.size == 0:
        raise ValueError("y_true is empty: expected at least one labelled row")
    if not np.isfinite(actual).all():
        raise ValueError("y_true must be finite (no missing labels: drop unlabelled rows)")
    if not np.isfinite(predicted).all():
        raise ValueError(f"{name} must be finite, with no missing values")
    return actual, predicted


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error, in USD per user.

    The mean is what minimises it, so it rewards predicting expected revenue (GA4's
    definition); it is dominated by the few large spenders, which is why MAE and the
    ranking metrics are reported beside it.
    """
    actual, predicted = _validated_arrays(y_true, y_pred)
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error, in USD per user.

    Less sensitive to the heavy tail than RMSE. Note that the median minimises it, and the
    median revenue of a mostly non-buying population is 0: predicting 0 everywhere scores
    well, so never choose a model of expected revenue by MAE alone.
    """
    actual, predicted = _validated_arrays(y_true, y_pred)
    return float(np.mean(np.abs(actual - predicted)))


def _gini(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Kaggle's Gini of ``actual`` ordered by ``predicted`` (descending).

    Sum of the cumulative share of ``actual`` along the order, minus its value under a
    random order, divided by n. Tied predictions get the expected value over a random order
    of the tied rows (each tied row counts the mean ``actual`` of its group: the cumulative
    sums are linear in ``actual``), so the result does not depend on the input row order
    and a constant prediction scores exactly 0. Without ties this is Kaggle's value.
    """
    total = actual.sum()
    if total == 0:
        raise ValueError("the Gini is undefined when y_true sums to 0 (no revenue at all)")
    order = np.argsort(-predicted, kind="stable")
    sorted_predicted = predicted[order]
    sorted_actual = actual[order]
    _, group_ids = np.unique(-sorted_predicted, return_inverse=True)
    group_means = np.bincount(group_ids, weights=sorted_actual) / np.bincount(group_ids)
    ordered = group_means[group_ids]
    n = actual.size
    return float((np.cumsum(ordered).sum() / total - (n + 1) / 2.0) / n)


def normalized_gini(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Gini of the predictions over the Gini of the truth (Kaggle's normalized Gini).

    Measures how well the predictions rank users by what they actually spend, on the
    revenue scale (a big spender ranked low costs more than a small one): 1 for the
    perfect order, 0 for a random or constant prediction, -1 for the reversed order. It is
    blind to the scale of the predictions (calibration and the total are measured apart),
    which makes it fair to an unscaled baseline. Tied predictions count as a random order
    among themselves (see ``_gini``).
    """
    actual, predicted = _validated_arrays(y_true, y_pred)
    best = _gini(actual, actual)
    if best == 0:
        raise ValueError(
            "the normalized Gini is undefined when all y_true values are equal (nothing to rank)"
        )
    return _gini(actual, predicted) / best


def calibration_by_decile(y_true: ArrayLike, y_pred: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs mean actual revenue per decile of the prediction (1 = lowest).

    Shows where the amounts are wrong: a model can rank well and still over-predict the
    top decile (the users a campaign spends on) or miss the many small amounts at the
    bottom. Deciles are equal-frequency bins with edges at quantiles of the prediction;
    tied predictions stay in one bin, the lowest their value reaches (a constant, or the
    many zeros of a lookback baseline, fall in decile 1), so there can be fewer than
    ``n_bins`` rows (empty bins are dropped). The grouping is ``calibration_bins``
    (``grouping.py``), shared with the binary reliability diagram. Columns: ``decile``,
    ``count``, ``mean_predicted``, ``mean_actual``.
    """
    actual, predicted = _validated_arrays(y_true, y_pred)
    bins = calibration_bins(actual, predicted, n_bins=n_bins, strategy="quantile")
    return pd.DataFrame(
        {
            "decile": bins["bin"].to_numpy() + 1,
            "count": bins["count"].to_numpy(),
            "mean_predicted": bins["mean_score"].to_numpy(),
            "mean_actual": bins["observed_rate"].to_numpy(),
        }
    )


def decile_calibration_error(y_true: ArrayLike, y_pred: ArrayLike, n_bins: int = 10) -> float:
    """Mean |mean predicted - mean actual| over the deciles, weighted by rows (USD per user).

    One number summarising ``calibration_by_decile`` for a table of models.
    """
    table = calibration_by_decile(y_true, y_pred, n_bins=n_bins)
    weights = table["count"] / table["count"].sum()
    return float((weights * (table["mean_predicted"] - table["mean_actual"]).abs()).sum())


def total_relative_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Sum of predictions / sum of actual revenue - 1 (0: the total is right).

    The total is what finance forecasts from predicted revenue; per-user errors can cancel
    out in it, or add up (e.g. a log-target model that predicts the geometric mean
    under-predicts it systematically). Positive: over-prediction.
    """
    actual, predicted = _validated_arrays(y_true, y_pred)
    total = actual.sum()
    if total == 0:
        raise ValueError("the relative error of the total is undefined when y_true sums to 0")
    return float(predicted.sum() / total - 1.0)


REPORT_COLUMNS = (
    "model",
    "rows",
    "rmse",
    "mae",
    "normalized_gini",
    "total_relative_error",
    "decile_calibration_error",
    "mean_predicted",
    "mean_actual",
)


def regression_report(
    y_true: ArrayLike, predictions: Mapping[str, ArrayLike], n_bins: int = 10
) -> pd.DataFrame:
    """One row per predictor (in the mapping's order) with every metric of this module.

    ``predictions`` maps a name to predicted revenue over the label horizon, e.g.
    ``{"model": ..., "baseline": revenue_usd_lookback * horizon_days / 28, "oracle": ...}``.
    Scaling the baseline to the horizon is left to the caller (see the module docstring).
    Columns: ``REPORT_COLUMNS``.
    """
    if not predictions:
        raise ValueError("predictions is empty: expected at least one {name: predictions}")
    rows = []
    for name, values in predictions.items():
        actual, predicted = _validated_arrays(y_true, values, name=f"predictions[{name!r}]")
        rows.append(
            {
                "model": name,
                "rows": int(actual.size),
                "rmse": rmse(actual, predicted),
                "mae": mae(actual, predicted),
                "normalized_gini": normalized_gini(actual, predicted),
                "total_relative_error": total_relative_error(actual, predicted),
                "decile_calibration_error": decile_calibration_error(
                    actual, predicted, n_bins=n_bins
                ),
                "mean_predicted": float(predicted.mean()),
                "mean_actual": float(actual.mean()),
            }
        )
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def report_mlflow_metrics(
    table: pd.DataFrame, metrics: Sequence[str] | None = None
) -> dict[str, dict[str, float | int]]:
    """``{"<model>.<metric>": {"value": v, "step": 0}}`` from a ``regression_report`` table.

    The format of kedro-mlflow's ``MlflowMetricsHistoryDataset``, named as the binary
    evaluation names its metrics. ``metrics``: the columns to log (default: every column
    but ``model``).
    """
    names = (
        [column for column in table.columns if column != "model"] if metrics is None else metrics
    )
    return {
        f"{row['model']}.{metric}": {"value": float(row[metric]), "step": 0}
        for row in table.to_dict("records")
        for metric in names
    }

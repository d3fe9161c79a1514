"""Plots of predicted revenue (``problem_type: regression``) for the evaluation nodes.

``plot_decile_calibration``: mean predicted vs mean actual revenue per decile of each
model's prediction (``calibration_by_decile``). ``plot_revenue_gains``: share of the total
revenue captured when targeting the top x% of users by predicted revenue, ties spread evenly
as in the binary gains curve. ROC and precision-recall curves reuse the binary plots on
``buyers(target)`` (revenue > 0) with the predicted amounts as scores: how well each model
finds the users who buy at all.
"""

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .grouping import cumulative_gains
from .regression_metrics import calibration_by_decile

# Title of the ROC / precision-recall plots of a revenue model: "{ROC curves}: ...".
BUYER_CURVE_TITLE = "{}: finding buyers (revenue > 0) by predicted revenue"


def _revenue(y_true: ArrayLike) -> np.ndarray:
    """Realised revenue: a finite, non-negative float array with some revenue in it."""
    actual = np.asarray(y_true, dtype="float64").ravel()
    if actual.size == 0:
        raise ValueError("y_true is empty: expected at least one labelled row")
    if not np.isfinite(actual).all() or (actual < 0).any():
        raise ValueError("revenue y_true must be finite amounts >= 0 (no missing labels)")
    return actual


def buyers(y_true: ArrayLike) -> np.ndarray:
    """0/1 labels of the rows with revenue > 0: the classes the ROC and PR curves separate."""
    return (_revenue(y_true) > 0).astype("int64")


def _checked_predictions(
    actual: np.ndarray, predictions: Mapping[str, ArrayLike]
) -> dict[str, np.ndarray]:
    if not predictions:
        raise ValueError("predictions must map at least one model name to its predictions")
    checked = {}
    for name, values in predictions.items():
        predicted = np.asarray(values, dtype="float64").ravel()
        if predicted.shape != actual.shape:
            raise ValueError(
                f"y_true has {actual.size} values but predictions[{name!r}] has "
                f"{predicted.size}: expected equal lengths"
            )
        if not np.isfinite(predicted).all():
            raise ValueError(f"predictions[{name!r}] must be finite, with no missing values")
        checked[name] = predicted
    return checked


def plot_decile_calibration(
    y_true: ArrayLike, predictions: Mapping[str, ArrayLike], n_bins: int = 10
) -> Figure:
    """Mean actual vs mean predicted revenue per decile of each model's prediction.

    Points on the diagonal are calibrated deciles. The lower panel gives the rows per
    decile: tied predictions (e.g. the zeros of the lookback baseline) share one decile, so
    a model can have fewer, larger ones.
    """
    actual = _revenue(y_true)
    model_predictions = _checked_predictions(actual, predictions)
    figure = Figure(figsize=(7, 8), layout="constrained")
    diagram, counts = figure.subplots(2, 1, height_ratios=(3, 1))
    upper = 0.0
    for name, predicted in model_predictions.items():
        deciles = calibration_by_decile(actual, predicted, n_bins=n_bins)
        diagram.plot(deciles["mean_predicted"], deciles["mean_actual"], marker="o", label=name)
        counts.plot(deciles["mean_predicted"], deciles["count"], marker=".", label=name)
        upper = max(upper, deciles["mean_predicted"].max(), deciles["mean_actual"].max())
    limit = upper * 1.05 if upper > 0 else 1.0
    diagram.plot([0, limit], [0, limit], linestyle="--", color="grey", label="perfectly calibrated")
    diagram.set(
        xlim=(0, limit),
        ylim=(0, limit),
        xlabel="mean predicted revenue (decile)",
        ylabel="mean actual revenue (decile)",
        title=f"Calibration by decile of the prediction ({n_bins} quantile bins)",
    )
    diagram.legend(loc="upper left")
    counts.set(xlim=(0, limit), xlabel="mean predicted revenue (decile)", ylabel="rows per decile")
    counts.set_ylim(bottom=0)
    return figure


def plot_revenue_gains(y_true: ArrayLike, predictions: Mapping[str, ArrayLike]) -> Figure:
    """Share of the total revenue captured when targeting the top x% by prediction, per model.

    Also draws the random line and the perfect order (users by their actual revenue), between
    which every model lies. Tied predictions share their revenue evenly (expected gains under
    a random order of the ties), as in the binary curve.
    """
    actual = _revenue(y_true)
    if actual.sum() == 0:
        raise ValueError("revenue gains are undefined when y_true sums to 0 (no revenue at all)")
    model_predictions = _checked_predictions(actual, predictions)
    figure = Figure(figsize=(6, 6), layout="constrained")
    axes = figure.subplots()
    for name, predicted in model_predictions.items():
        axes.plot(*cumulative_gains(actual, predicted), label=name)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    axes.plot(*cumulative_gains(actual, actual), linestyle=":", color="black", label="perfect")
    axes.set(
        xlabel="share of users targeted (by descending predicted revenue)",
        ylabel="share of total revenue captured",
        title="Cumulative revenue gains",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    axes.legend(loc="lower right")
    return figure

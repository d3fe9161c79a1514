"""Grouping of rows by score, shared by the binary and the revenue evaluation.

``calibration_bins`` groups rows into score bins and averages the score and the target per
bin. For a 0/1 label the mean target is the observed positive rate (``nodes.py``: reliability
diagram, ECE); for revenue it is the mean actual amount (``regression_metrics.py``:
calibration by decile of the prediction). ``cumulative_gains`` orders rows by score with
ties spread evenly: the share of positives (binary) or of total revenue (regression)
captured by the top x%. ``expected_calibration_error`` summarises ``calibration_bins`` in one
number (the binary report, and per class in ``multiclass_metrics.py``). One implementation
each, so every problem type groups rows alike.
"""

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

CALIBRATION_STRATEGIES = ("quantile", "uniform")


def calibration_bins(
    y_true: ArrayLike, y_score: ArrayLike, n_bins: int = 10, strategy: str = "quantile"
) -> pd.DataFrame:
    """Group rows into score bins: count, mean predicted score and observed positive rate.

    ``quantile`` gives equal-frequency bins (edges at score quantiles; tied scores stay in
    one bin, so there can be fewer bins); ``uniform`` gives equal-width bins on [0, 1].
    Rows are assigned like ``sklearn.calibration.calibration_curve`` does, so the two agree.
    Empty bins are dropped. ``observed_rate`` is the mean of ``y_true`` in the bin: the
    positive rate for 0/1 labels, the mean amount for a numeric target.
    """
    labels = np.asarray(y_true, dtype="float64").ravel()
    scores = np.asarray(y_score, dtype="float64").ravel()
    if n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins}")
    if strategy == "quantile":
        edges = np.quantile(scores, np.linspace(0.0, 1.0, n_bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError(
            f"calibration strategy must be one of {CALIBRATION_STRATEGIES}, got {strategy!r}"
        )
    bin_ids = np.searchsorted(edges[1:-1], scores)
    counts = np.bincount(bin_ids, minlength=n_bins)
    score_sums = np.bincount(bin_ids, weights=scores, minlength=n_bins)
    positive_sums = np.bincount(bin_ids, weights=labels, minlength=n_bins)
    non_empty = counts > 0
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(non_empty),
            "count": counts[non_empty],
            "mean_score": score_sums[non_empty] / counts[non_empty],
            "observed_rate": positive_sums[non_empty] / counts[non_empty],
        }
    )


def expected_calibration_error(
    y_true: ArrayLike, y_score: ArrayLike, n_bins: int = 10, strategy: str = "quantile"
) -> float:
    """Mean |observed rate - mean score| over bins, weighted by the share of rows per bin."""
    bins = calibration_bins(y_true, y_score, n_bins=n_bins, strategy=strategy)
    weights = bins["count"] / bins["count"].sum()
    return float((weights * (bins["observed_rate"] - bins["mean_score"]).abs()).sum())


def cumulative_gains(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of rows targeted vs share of the target's total captured, ties spread evenly.

    ``labels`` are 0/1 (share of positives) or amounts >= 0 (share of the total amount).
    """
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    sorted_labels = labels[order].astype("float64")
    # Average the labels within each tie group: the expected gains under a random tie order.
    _, group_ids = np.unique(-sorted_scores, return_inverse=True)
    group_means = np.bincount(group_ids, weights=sorted_labels) / np.bincount(group_ids)
    gains = np.concatenate([[0.0], np.cumsum(group_means[group_ids]) / labels.sum()])
    targeted = np.arange(labels.size + 1) / labels.size
    return targeted, gains

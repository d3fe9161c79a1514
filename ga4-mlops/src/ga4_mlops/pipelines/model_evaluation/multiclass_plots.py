"""Plots of class probabilities (``problem_type: multiclass``) for the evaluation nodes.

Each takes ``y_true`` (class positions), ``{model: [n, K] probabilities}`` and the class
names, and draws every model on one figure, like the binary plots:

* ``plot_class_reliability``: a reliability diagram per class (``reliability_bins``), so a
  rare class's calibration is not hidden by the frequent one.
* ``plot_top_k_accuracy``: top-k accuracy for k = 1..K, the multiclass analogue of a gains
  curve (how many guesses until the true class is among them), with the curve of guessing
  the classes in the order of their share.
* ``plot_one_vs_rest``: ROC-AUC or average precision of each class against the rest, one bar
  per model; a class absent from the test split has no bar.
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from sklearn.metrics import average_precision_score, roc_auc_score

from .multiclass_metrics import reliability_bins, top_k_accuracy, validated_probabilities

# metric name -> (axis label, sklearn function) of plot_one_vs_rest.
ONE_VS_REST = {
    "roc_auc": ("ROC-AUC", roc_auc_score),
    "average_precision": ("average precision", average_precision_score),
}


def _checked(
    y_true: ArrayLike, probabilities: Mapping[str, ArrayLike], class_names: Sequence[str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Class positions and one validated [n, K] array per model, K = len(class_names)."""
    if not probabilities:
        raise ValueError("probabilities must map at least one model name to its [n, K] array")
    checked = {}
    for name, values in probabilities.items():
        codes, scores = validated_probabilities(y_true, values, f"probabilities[{name!r}]")
        if scores.shape[1] != len(class_names):
            raise ValueError(
                f"probabilities[{name!r}] has {scores.shape[1]} columns for "
                f"{len(class_names)} classes: expected one column per class"
            )
        checked[name] = scores
    return codes, checked


def plot_class_reliability(
    y_true: ArrayLike,
    probabilities: Mapping[str, ArrayLike],
    class_names: Sequence[str],
    n_bins: int = 10,
    strategy: str = "quantile",
) -> Figure:
    """Observed share vs mean predicted probability per bin, one panel per class.

    Each panel has its own scale (a rare class lives near 0), the class's actual share in
    its title, and the diagonal of perfect calibration.
    """
    codes, model_scores = _checked(y_true, probabilities, class_names)
    n_columns = min(4, len(class_names))
    n_rows = math.ceil(len(class_names) / n_columns)
    figure = Figure(figsize=(3.6 * n_columns, 3.2 * n_rows + 0.6), layout="constrained")
    panels = figure.subplots(n_rows, n_columns, squeeze=False).ravel()
    for position, (panel, name) in enumerate(zip(panels, class_names, strict=False)):
        upper = 0.0
        for model, scores in model_scores.items():
            bins = reliability_bins(codes, scores, position, n_bins, strategy)
            panel.plot(bins["mean_score"], bins["observed_rate"], marker="o", label=model)
            upper = max(upper, bins["mean_score"].max(), bins["observed_rate"].max())
        limit = min(1.0, upper * 1.05) if upper > 0 else 1.0
        panel.plot([0, limit], [0, limit], linestyle="--", color="grey", label="perfect")
        panel.set(
            xlim=(0, limit),
            ylim=(0, limit),
            title=f"{name} (share {np.mean(codes == position):.2%})",
            xlabel="mean predicted probability",
            ylabel="observed share",
        )
    for panel in panels[len(class_names) :]:
        panel.set_visible(False)
    panels[0].legend(loc="upper left", fontsize="small")
    figure.suptitle(f"Reliability per class ({n_bins} {strategy} bins)")
    return figure


def plot_top_k_accuracy(
    y_true: ArrayLike, probabilities: Mapping[str, ArrayLike], class_names: Sequence[str]
) -> Figure:
    """Top-k accuracy for k = 1..K per model (1 at k = K), and the class-share order.

    The reference guesses the same classes for every row, most frequent first: a model
    must lie above it to have learnt anything about the rows.
    """
    codes, model_scores = _checked(y_true, probabilities, class_names)
    n_classes = len(class_names)
    ks = np.arange(1, n_classes + 1)
    figure = Figure(figsize=(6, 5), layout="constrained")
    axes = figure.subplots()
    lowest = 1.0
    for name, scores in model_scores.items():
        accuracy = [top_k_accuracy(codes, scores, k) for k in ks[:-1]] + [1.0]
        axes.plot(ks, accuracy, marker="o", label=f"{name} (top-1 {accuracy[0]:.3f})")
        lowest = min(lowest, accuracy[0])
    shares = np.sort(np.bincount(codes, minlength=n_classes) / codes.size)[::-1]
    axes.plot(ks, np.cumsum(shares), linestyle="--", color="grey", label="class shares, no model")
    axes.set(
        xlabel="k (most probable classes guessed)",
        ylabel="share of rows whose class is among them",
        title="Top-k accuracy",
        xticks=ks,
        # A dominant class puts every curve near 1: the axis starts just below the lowest.
        ylim=(max(0.0, min(lowest, shares[0]) - 0.05), 1.005),
    )
    axes.legend(loc="lower right")
    return figure


def one_vs_rest_scores(codes: np.ndarray, scores: np.ndarray, metric: str) -> np.ndarray:
    """``metric`` (roc_auc or average_precision) of each class against the rest; NaN for a
    class absent from ``codes`` (or present in every row): nothing to separate."""
    values = np.full(scores.shape[1], np.nan)
    for position in range(scores.shape[1]):
        is_class = codes == position
        if 0 < is_class.sum() < is_class.size:
            values[position] = ONE_VS_REST[metric][1](is_class, scores[:, position])
    return values


def plot_one_vs_rest(
    y_true: ArrayLike,
    probabilities: Mapping[str, ArrayLike],
    class_names: Sequence[str],
    metric: str = "roc_auc",
) -> Figure:
    """One horizontal bar per class and model: how well the class's probability separates
    its rows from the rest. ``average_precision`` also marks each class's share (chance)."""
    if metric not in ONE_VS_REST:
        raise ValueError(f"metric must be one of {list(ONE_VS_REST)}, got {metric!r}")
    codes, model_scores = _checked(y_true, probabilities, class_names)
    n_classes, n_models = len(class_names), len(model_scores)
    height = 0.8 / n_models
    positions = np.arange(n_classes)
    height_inches = 1.5 + 0.45 * n_classes * max(1, n_models / 2)
    figure = Figure(figsize=(7, height_inches), layout="constrained")
    axes = figure.subplots()
    for index, (name, scores) in enumerate(model_scores.items()):
        values = one_vs_rest_scores(codes, scores, metric)
        axes.barh(positions + index * height, values, height=height, label=name)
    centre = positions + height * (n_models - 1) / 2
    if metric == "average_precision":
        shares = np.bincount(codes, minlength=n_classes) / codes.size
        axes.scatter(shares, centre, marker="|", s=300, color="black", label="class share")
    else:
        axes.axvline(0.5, linestyle="--", color="grey", label="chance")
    label = ONE_VS_REST[metric][0]
    axes.set(
        yticks=centre,
        yticklabels=list(class_names),
        xlim=(0, 1),
        xlabel=f"{label} of the class against the rest",
        title=f"One-vs-rest {label} per class",
    )
    axes.invert_yaxis()  # the first class on top
    axes.legend(loc="lower right", fontsize="small")
    return figure

"""Measure the models on the test split: ranking, calibration and top-of-list metrics.

Purchase is rare, so ROC-AUC alone flatters every model: PR-AUC, lift/capture in the top
few percent (what a campaign targets) and calibration (what a bid or budget multiplies) are
reported beside it. The functions taking ``y_true`` and a ``{model_name: scores}`` mapping
are reused by the oracle benchmark; the node functions only select columns.

With ``model_input.columns.problem_type: regression`` (predicted revenue) the same nodes
report ``regression_report`` and draw the revenue versions of the plots (decile calibration
and revenue gains in ``regression_plots.py``; ROC and precision-recall of finding buyers).
With ``multiclass`` each node hands over to ``multiclass_nodes.py`` (one probability column per
class: log loss, top-k accuracy, Brier, calibration per class; the plots per class).
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from ga4_mlops.problem_types import MULTICLASS, REGRESSION, problem_type, target_values

from . import multiclass_nodes, regression_plots
from .grouping import calibration_bins, expected_calibration_error
from .grouping import cumulative_gains as _cumulative_gains
from .regression_metrics import regression_report, report_mlflow_metrics


def _validated_arrays(
    y_true: ArrayLike, y_score: ArrayLike, name: str = "y_score", probabilities: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Binary 0/1 labels and probabilities in [0, 1] of the same length, with both classes.

    ``probabilities=False`` accepts any finite score (e.g. predicted revenue ranking buyers).
    """
    labels = np.asarray(y_true, dtype="float64").ravel()
    scores = np.asarray(y_score, dtype="float64").ravel()
    if labels.shape != scores.shape:
        raise ValueError(
            f"y_true has {labels.size} values but {name} has {scores.size}: expected equal lengths"
        )
    if labels.size == 0:
        raise ValueError("y_true is empty: expected at least one labelled row")
    if np.isnan(labels).any() or not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError("y_true must contain only 0 and 1 (no missing labels)")
    if not probabilities:
        if not np.isfinite(scores).all():
            raise ValueError(f"{name} must be finite scores with no missing values")
    elif np.isnan(scores).any() or (scores < 0).any() or (scores > 1).any():
        raise ValueError(f"{name} must be probabilities in [0, 1] with no missing values")
    if np.unique(labels).size < 2:
        raise ValueError(
            f"y_true contains only class {int(labels[0])}: ROC-AUC, PR-AUC and lift need "
            "both positive and negative rows"
        )
    return labels.astype("int64"), scores


def _fraction_key(fraction: float) -> str:
    """0.01 -> '1pct', 0.025 -> '2.5pct': stable metric names for any top fraction."""
    return f"{round(fraction * 100, 6):g}pct"


def top_fraction_capture(y_true: ArrayLike, y_score: ArrayLike, fraction: float) -> float:
    """Share of all positives among the top ``fraction`` of rows by score.

    The top holds ``ceil(fraction * n)`` rows. Rows tied with the score at the cut-off share
    the remaining places in proportion, i.e. the expected capture under a random order of
    ties: deterministic, and independent of how the input rows happen to be ordered (a
    constant score captures exactly ``fraction`` instead of whatever the row order gives).
    """
    labels, scores = _validated_arrays(y_true, y_score)
    if not 0 < fraction <= 1:
        raise ValueError(f"top fraction must be in (0, 1], got {fraction}")
    n_top = math.ceil(fraction * labels.size)
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    cutoff = sorted_scores[n_top - 1]
    above = sorted_scores > cutoff
    tied = sorted_scores == cutoff
    places_for_ties = n_top - int(above.sum())
    captured = sorted_labels[above].sum() + sorted_labels[tied].sum() * (
        places_for_ties / tied.sum()
    )
    return float(captured / labels.sum())


def classification_metrics(
    y_true: ArrayLike,
    y_score: ArrayLike,
    top_fractions: Sequence[float] = (0.01, 0.05, 0.10),
    n_bins: int = 10,
    strategy: str = "quantile",
) -> dict[str, float]:
    """Ranking, probability-quality and top-of-list metrics of one score vector.

    ``ece`` uses ``n_bins`` bins of ``strategy`` (see ``calibration_bins``). For each top
    fraction X: ``capture_at_Xpct`` (share of all positives in the top X%) and
    ``lift_at_Xpct`` (positive rate in the top X% / base rate).
    """
    labels, scores = _validated_arrays(y_true, y_score)
    metrics = {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "log_loss": float(log_loss(labels, scores, labels=[0, 1])),
        "brier": float(brier_score_loss(labels, scores)),
        "ece": expected_calibration_error(labels, scores, n_bins=n_bins, strategy=strategy),
        "base_rate": float(labels.mean()),
    }
    for fraction in top_fractions:
        capture = top_fraction_capture(labels, scores, fraction)
        top_share = math.ceil(fraction * labels.size) / labels.size
        key = _fraction_key(fraction)
        metrics[f"lift_at_{key}"] = capture / top_share
        metrics[f"capture_at_{key}"] = capture
    return metrics


def _scores_by_model(
    test_predictions: pd.DataFrame, columns: Mapping[str, Any], models: Mapping[str, str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Target and one score vector per model, with a clear error for a missing column.

    The target is 0/1 labels (binary) or float amounts (regression, ``target_values``).
    """
    required = [columns["target"], *models.values()]
    missing = [column for column in required if column not in test_predictions.columns]
    if missing:
        raise ValueError(
            f"dataset 'test_predictions' lacks column(s) {missing}: expected the target "
            f"'{columns['target']}' and the score columns {list(models.values())}"
        )
    labels = test_predictions[columns["target"]]
    if labels.isna().any():
        raise ValueError(
            f"dataset 'test_predictions' column '{columns['target']}' has missing labels: "
            "the test split must be fully labelled"
        )
    return target_values(test_predictions, columns), {
        name: test_predictions[column].to_numpy(dtype="float64") for name, column in models.items()
    }


def evaluate_models(
    test_predictions: pd.DataFrame, columns: dict[str, Any], params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, dict[str, float | int]]]:
    """One row of metrics per model, and the same values as MLflow metrics.

    The metrics are ``{"<model>.<metric>": {"value": v, "step": 0}}``, the format of
    kedro-mlflow's ``MlflowMetricsHistoryDataset``; its catalog ``prefix`` (``test``) makes
    the names in MLflow ``test.<model>.<metric>``. Regression: the ``regression_report``
    table (RMSE, MAE, normalized Gini, ... with ``n_bins`` deciles) and each of its columns.
    """
    if problem_type(columns) == MULTICLASS:
        return multiclass_nodes.evaluate_models(test_predictions, columns, params)
    labels, scores = _scores_by_model(test_predictions, columns, params["models"])
    if problem_type(columns) == REGRESSION:
        try:
            table = regression_report(labels, scores, n_bins=params["n_bins"])
        except ValueError as error:
            raise ValueError(f"dataset 'test_predictions': {error}") from error
        return table, report_mlflow_metrics(table)
    rows = []
    for model_name, model_scores in scores.items():
        try:
            metrics = classification_metrics(
                labels,
                model_scores,
                top_fractions=params["top_fractions"],
                n_bins=params["n_bins"],
                strategy=params["calibration_strategy"],
            )
        except ValueError as error:
            raise ValueError(
                f"dataset 'test_predictions', model '{model_name}': {error}"
            ) from error
        rows.append(
            {
                "model": model_name,
                "n_rows": labels.size,
                "n_positives": int(labels.sum()),
                **metrics,
            }
        )
    table = pd.DataFrame(rows)
    metric_names = [column for column in table.columns if column != "model"]
    mlflow_metrics = {
        f"{row['model']}.{metric}": {"value": float(row[metric]), "step": 0}
        for row in rows
        for metric in metric_names
    }
    return table, mlflow_metrics


def _checked_curves(
    y_true: ArrayLike, scores: Mapping[str, ArrayLike], probabilities: bool = True
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if not scores:
        raise ValueError("scores must map at least one model name to its score vector")
    validated = {
        name: _validated_arrays(y_true, s, f"scores['{name}']", probabilities)
        for name, s in scores.items()
    }
    labels = next(iter(validated.values()))[0]
    return labels, {name: pair[1] for name, pair in validated.items()}


def plot_calibration_curves(
    y_true: ArrayLike,
    scores: Mapping[str, ArrayLike],
    n_bins: int = 10,
    strategy: str = "quantile",
) -> Figure:
    """Reliability diagram (observed rate vs mean score per bin) with the bin counts below.

    The counts show which points rest on few rows: with equal-width bins and a rare event
    they span orders of magnitude, so that panel is then logarithmic.
    """
    labels, model_scores = _checked_curves(y_true, scores)
    figure = Figure(figsize=(7, 8), layout="constrained")
    diagram, counts = figure.subplots(2, 1, height_ratios=(3, 1))
    upper = 0.0
    for name, values in model_scores.items():
        bins = calibration_bins(labels, values, n_bins=n_bins, strategy=strategy)
        diagram.plot(bins["mean_score"], bins["observed_rate"], marker="o", label=name)
        counts.plot(bins["mean_score"], bins["count"], marker=".", label=name)
        upper = max(upper, bins["mean_score"].max(), bins["observed_rate"].max())
    limit = min(1.0, upper * 1.05) if upper > 0 else 1.0
    diagram.plot([0, limit], [0, limit], linestyle="--", color="grey", label="perfectly calibrated")
    diagram.set(
        xlim=(0, limit),
        ylim=(0, limit),
        xlabel="mean predicted probability (bin)",
        ylabel="observed positive rate (bin)",
        title=f"Reliability diagram ({n_bins} {strategy} bins)",
    )
    diagram.legend(loc="upper left")
    counts.set(
        xlim=(0, limit),
        yscale="log" if strategy == "uniform" else "linear",
        xlabel="mean predicted probability (bin)",
        ylabel="rows per bin",
    )
    if strategy != "uniform":
        counts.set_ylim(bottom=0)
    return figure


def plot_roc_curves(
    y_true: ArrayLike, scores: Mapping[str, ArrayLike], probabilities: bool = True
) -> Figure:
    """ROC curve per model with its AUC, and the chance diagonal.

    ``probabilities=False``: the scores may be any finite ranking (e.g. predicted revenue).
    """
    labels, model_scores = _checked_curves(y_true, scores, probabilities)
    figure = Figure(figsize=(6, 6), layout="constrained")
    axes = figure.subplots()
    for name, values in model_scores.items():
        false_positive_rate, true_positive_rate, _ = roc_curve(labels, values)
        auc = roc_auc_score(labels, values)
        axes.plot(false_positive_rate, true_positive_rate, label=f"{name} (AUC {auc:.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curves")
    axes.legend(loc="lower right")
    return figure


def plot_precision_recall_curves(
    y_true: ArrayLike, scores: Mapping[str, ArrayLike], probabilities: bool = True
) -> Figure:
    """Precision-recall curve per model with its average precision, and the base rate.

    ``probabilities=False``: the scores may be any finite ranking (e.g. predicted revenue).
    """
    labels, model_scores = _checked_curves(y_true, scores, probabilities)
    figure = Figure(figsize=(6, 6), layout="constrained")
    axes = figure.subplots()
    for name, values in model_scores.items():
        precision, recall, _ = precision_recall_curve(labels, values)
        average_precision = average_precision_score(labels, values)
        axes.step(recall, precision, where="post", label=f"{name} (AP {average_precision:.3f})")
    base_rate = labels.mean()
    axes.plot([0, 1], [base_rate, base_rate], linestyle="--", color="grey", label="base rate")
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall curves", ylim=(0, 1.02))
    axes.legend(loc="upper right")
    return figure


def plot_cumulative_gains(y_true: ArrayLike, scores: Mapping[str, ArrayLike]) -> Figure:
    """Share of positives captured when targeting the top x% by score, per model.

    Also draws the random line (targeting at random) and the perfect model (all positives
    first), between which every model lies.
    """
    labels, model_scores = _checked_curves(y_true, scores)
    figure = Figure(figsize=(6, 6), layout="constrained")
    axes = figure.subplots()
    for name, values in model_scores.items():
        targeted, gains = _cumulative_gains(labels, values)
        axes.plot(targeted, gains, label=name)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    base_rate = labels.mean()
    axes.plot([0, base_rate, 1], [0, 1, 1], linestyle=":", color="black", label="perfect")
    axes.set(
        xlabel="share of rows targeted (by descending score)",
        ylabel="share of positives captured",
        title="Cumulative gains",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    axes.legend(loc="lower right")
    return figure


def calibration_plot(
    test_predictions: pd.DataFrame, columns: dict[str, Any], params: dict[str, Any]
) -> Figure:
    """Reliability diagram of every model on the test split.

    Regression: mean predicted vs mean actual revenue per decile of each model's prediction.
    """
    if problem_type(columns) == MULTICLASS:
        return multiclass_nodes.calibration_plot(test_predictions, columns, params)
    labels, scores = _scores_by_model(test_predictions, columns, params["models"])
    if problem_type(columns) == REGRESSION:
        return regression_plots.plot_decile_calibration(labels, scores, n_bins=params["n_bins"])
    return plot_calibration_curves(
        labels, scores, n_bins=params["n_bins"], strategy=params["calibration_strategy"]
    )


def roc_plot(
    test_predictions: pd.DataFrame, columns: dict[str, Any], params: dict[str, Any]
) -> Figure:
    """ROC curves of every model on the test split.

    Regression: how well each predicted amount finds the buyers (target > 0).
    """
    if problem_type(columns) == MULTICLASS:
        return multiclass_nodes.roc_plot(test_predictions, columns, params)
    target, scores = _scores_by_model(test_predictions, columns, params["models"])
    if problem_type(columns) == REGRESSION:
        figure = plot_roc_curves(regression_plots.buyers(target), scores, probabilities=False)
        figure.axes[0].set_title(regression_plots.BUYER_CURVE_TITLE.format("ROC curves"))
        return figure
    return plot_roc_curves(target, scores)


def precision_recall_plot(
    test_predictions: pd.DataFrame, columns: dict[str, Any], params: dict[str, Any]
) -> Figure:
    """Precision-recall curves of every model on the test split.

    Regression: how well each predicted amount finds the buyers (target > 0).
    """
    if problem_type(columns) == MULTICLASS:
        return multiclass_nodes.precision_recall_plot(test_predictions, columns, params)
    target, scores = _scores_by_model(test_predictions, columns, params["models"])
    if problem_type(columns) == REGRESSION:
        figure = plot_precision_recall_curves(
            regression_plots.buyers(target), scores, probabilities=False
        )
        title = regression_plots.BUYER_CURVE_TITLE.format("Precision-recall curves")
        figure.axes[0].set_title(title)
        return figure
    return plot_precision_recall_curves(target, scores)


def cumulative_gains_plot(
    test_predictions: pd.DataFrame, columns: dict[str, Any], params: dict[str, Any]
) -> Figure:
    """Cumulative gains of every model on the test split.

    Regression: share of the total revenue captured by the top x% by predicted revenue.
    """
    if problem_type(columns) == MULTICLASS:
        return multiclass_nodes.cumulative_gains_plot(test_predictions, columns, params)
    target, scores = _scores_by_model(test_predictions, columns, params["models"])
    if problem_type(columns) == REGRESSION:
        return regression_plots.plot_revenue_gains(target, scores)
    return plot_cumulative_gains(target, scores)

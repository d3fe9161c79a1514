"""Measure class probabilities (``problem_type: multiclass``): loss, top-k hits, calibration.

The example is the category of a user's next purchase, with a class for "no purchase" that
holds ~97% of the rows. Accuracy alone flatters a model that always says "no purchase", so
the report puts beside it the log loss and the Brier score (the quality of every
probability), top-k accuracy (a recommendation shows a few categories, not one) and
calibration per class: the mean predicted probability of a class against its actual share,
and its expected calibration error (ECE) over bins of that probability. A rare class can be
badly calibrated while the frequent one hides it in any pooled number, hence one ECE per
class and their unweighted mean (``macro_ece``), which counts every class alike.

The functions take ``y_true`` as int positions in the class list (``target_values``) and
``probabilities`` as an [n, K] array whose columns follow that list (rows sum to 1). The
binning is ``calibration_bins`` / ``expected_calibration_error`` (``grouping.py``), shared
with the binary reliability diagram and ECE.
"""

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import log_loss, top_k_accuracy_score

from ga4_mlops.problem_types import class_slug

from .grouping import calibration_bins, expected_calibration_error

DEFAULT_TOP_K = (1, 3)
# Rows of probabilities may miss 1 by float rounding (float32 models, CSV round trips).
ROW_SUM_TOLERANCE = 1e-4
CALIBRATION_COLUMNS = ("class", "count", "actual_share", "mean_predicted", "ece")


def validated_probabilities(
    y_true: ArrayLike, probabilities: ArrayLike, name: str = "probabilities"
) -> tuple[np.ndarray, np.ndarray]:
    """Int class positions and an [n, K] probability array (rows renormalised to sum to 1).

    Refuses what would make a metric silently wrong: a label outside ``range(K)``, a
    missing or out-of-range probability, a row that does not sum to 1.
    """
    codes = np.asarray(y_true).ravel()
    scores = np.asarray(probabilities, dtype="float64")
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(
            f"{name} must be an [n, K] array with one column per class (K >= 2), "
            f"got shape {scores.shape}"
        )
    n_classes = scores.shape[1]
    if codes.size != scores.shape[0]:
        raise ValueError(
            f"y_true has {codes.size} values but {name} has {scores.shape[0]} rows: "
            "expected equal lengths"
        )
    if codes.size == 0:
        raise ValueError("y_true is empty: expected at least one labelled row")
    integers = np.issubdtype(codes.dtype, np.integer)
    if not integers or codes.min() < 0 or codes.max() >= n_classes:
        raise ValueError(
            f"y_true must hold class positions 0..{n_classes - 1} (the order of the "
            f"{n_classes} probability columns), got values {np.unique(codes)[:10].tolist()}"
        )
    if not np.isfinite(scores).all() or (scores < 0).any() or (scores > 1).any():
        raise ValueError(f"{name} must be probabilities in [0, 1] with no missing values")
    row_sums = scores.sum(axis=1)
    bad_rows = np.flatnonzero(np.abs(row_sums - 1.0) > ROW_SUM_TOLERANCE)
    if bad_rows.size:
        raise ValueError(
            f"{name} rows must sum to 1 over the {n_classes} classes: {bad_rows.size} row(s) "
            f"do not, e.g. row {bad_rows[0]} sums to {row_sums[bad_rows[0]]:.6g}"
        )
    return codes.astype("int64"), scores / row_sums[:, None]


def multiclass_log_loss(y_true: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean -log(probability of the true class): every class counts, even absent ones."""
    codes, scores = validated_probabilities(y_true, probabilities)
    return float(log_loss(codes, scores, labels=list(range(scores.shape[1]))))


def top_k_accuracy(y_true: ArrayLike, probabilities: ArrayLike, k: int) -> float:
    """Share of rows whose true class is among the ``k`` most probable (sklearn's ties).

    ``k`` must be below the number of classes: at ``k = K`` every row is a hit.
    """
    codes, scores = validated_probabilities(y_true, probabilities)
    n_classes = scores.shape[1]
    if not 1 <= k < n_classes:
        raise ValueError(
            f"top-k accuracy needs 1 <= k < {n_classes} (the number of classes), got k={k}: "
            "check params model_evaluation.top_k"
        )
    if n_classes == 2:  # sklearn reads two classes as binary: the score of class 1
        return float(top_k_accuracy_score(codes, scores[:, 1], k=k, labels=[0, 1]))
    return float(top_k_accuracy_score(codes, scores, k=k, labels=list(range(n_classes))))


def multiclass_brier(y_true: ArrayLike, probabilities: ArrayLike) -> float:
    """Mean over rows of the squared distance to the one-hot truth (0 best, 2 worst)."""
    codes, scores = validated_probabilities(y_true, probabilities)
    one_hot = np.eye(scores.shape[1])[codes]
    return float(((scores - one_hot) ** 2).sum(axis=1).mean())


def per_class_calibration(
    y_true: ArrayLike,
    probabilities: ArrayLike,
    class_names: Sequence[str],
    n_bins: int = 10,
    strategy: str = "quantile",
) -> pd.DataFrame:
    """One row per class: rows of the class, actual share, mean predicted probability, ECE.

    The ECE of a class bins its probability column (``calibration_bins`` with ``n_bins`` and
    ``strategy``) against "the row is of this class": the binary ECE, one class at a time.
    Columns: ``CALIBRATION_COLUMNS``.
    """
    codes, scores = validated_probabilities(y_true, probabilities)
    if len(class_names) != scores.shape[1]:
        raise ValueError(
            f"{len(class_names)} class names for {scores.shape[1]} probability columns: "
            "expected one name per column"
        )
    rows = []
    for position, name in enumerate(class_names):
        is_class = (codes == position).astype("int64")
        column = scores[:, position]
        rows.append(
            {
                "class": name,
                "count": int(is_class.sum()),
                "actual_share": float(is_class.mean()),
                "mean_predicted": float(column.mean()),
                "ece": expected_calibration_error(
                    is_class, column, n_bins=n_bins, strategy=strategy
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(CALIBRATION_COLUMNS))


def reliability_bins(
    y_true: ArrayLike, probabilities: ArrayLike, position: int, n_bins: int, strategy: str
) -> pd.DataFrame:
    """``calibration_bins`` of one class's probability against "the row is of this class"."""
    codes, scores = validated_probabilities(y_true, probabilities)
    return calibration_bins(
        (codes == position).astype("int64"), scores[:, position], n_bins=n_bins, strategy=strategy
    )


def multiclass_metrics(
    y_true: ArrayLike,
    probabilities: ArrayLike,
    class_names: Sequence[str],
    top_k: Sequence[int] = DEFAULT_TOP_K,
    n_bins: int = 10,
    strategy: str = "quantile",
) -> dict[str, float | int]:
    """Every metric of one model, flat: ``n_rows``, ``n_classes``, ``log_loss``,
    ``top_<k>_accuracy`` per k, ``brier``, ``macro_ece``, then per class ``actual_share_<slug>``,
    ``mean_predicted_<slug>`` and ``ece_<slug>`` (``class_slug`` of the class name).

    ``macro_ece`` is the unweighted mean of the per-class ECEs.
    """
    codes, scores = validated_probabilities(y_true, probabilities)
    calibration = per_class_calibration(codes, scores, class_names, n_bins, strategy)
    metrics: dict[str, float | int] = {
        "n_rows": int(codes.size),
        "n_classes": int(scores.shape[1]),
        "log_loss": multiclass_log_loss(codes, scores),
        **{f"top_{k}_accuracy": top_k_accuracy(codes, scores, k) for k in top_k},
        "brier": multiclass_brier(codes, scores),
        "macro_ece": float(calibration["ece"].mean()),
    }
    for row in calibration.to_dict("records"):
        slug = class_slug(row["class"])
        metrics[f"actual_share_{slug}"] = row["actual_share"]
        metrics[f"mean_predicted_{slug}"] = row["mean_predicted"]
        metrics[f"ece_{slug}"] = row["ece"]
    return metrics


def multiclass_report(
    y_true: ArrayLike,
    probabilities: Mapping[str, ArrayLike],
    class_names: Sequence[str],
    top_k: Sequence[int] = DEFAULT_TOP_K,
    n_bins: int = 10,
    strategy: str = "quantile",
) -> pd.DataFrame:
    """One row per model (in the mapping's order) with ``multiclass_metrics``' columns.

    ``probabilities`` maps a model name to its [n, K] array (columns in ``class_names``
    order). A model's error names it.
    """
    if not probabilities:
        raise ValueError("probabilities is empty: expected at least one {name: [n, K] array}")
    rows = []
    for name, values in probabilities.items():
        try:
            metrics = multiclass_metrics(y_true, values, class_names, top_k, n_bins, strategy)
        except ValueError as error:
            raise ValueError(f"model '{name}': {error}") from error
        rows.append({"model": name, **metrics})
    return pd.DataFrame(rows)

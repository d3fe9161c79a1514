"""Population stability index (PSI) of every feature and of the score, train vs scoring rows.

PSI = sum over bins of (current share - reference share) * ln(current share / reference share).
Reference = the rows the model was trained on; current = the rows scored now. Bins come from
the reference only, so the same bins are used every time the scoring data changes. The usual
reading: < 0.1 stable, 0.1-0.2 worth a look, > 0.2 a real shift (thresholds are parameters).
Drift never fails the run: it is reported, logged as a warning and sent to MLflow.
"""

import logging
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ga4_mlops.checks import require_columns

logger = logging.getLogger(__name__)

MISSING = "__missing__"
UNSEEN = "__unseen__"
STATUS_COLOURS = {"ok": "tab:green", "warn": "tab:orange", "alert": "tab:red"}


def psi_from_counts(
    reference_counts: np.ndarray, current_counts: np.ndarray, epsilon: float = 1e-4
) -> float:
    """PSI of two count vectors over the same bins; empty bins count as share ``epsilon``."""
    reference = np.asarray(reference_counts, dtype="float64")
    current = np.asarray(current_counts, dtype="float64")
    if reference.shape != current.shape or reference.sum() <= 0 or current.sum() <= 0:
        raise ValueError("PSI needs two non-empty count vectors over the same bins")
    reference_share = np.maximum(reference / reference.sum(), epsilon)
    current_share = np.maximum(current / current.sum(), epsilon)
    return float(
        np.sum((current_share - reference_share) * np.log(current_share / reference_share))
    )


def numeric_bin_edges(reference: pd.Series, n_bins: int) -> np.ndarray:
    """Inner bin edges at the reference's quantiles (bins are open-ended at both ends).

    Tied quantiles (e.g. a count that is mostly zero) merge into one bin. A constant column
    gets edges around its value, so values below, equal to and above it fall apart.
    """
    values = pd.to_numeric(reference, errors="raise").dropna().to_numpy(dtype="float64")
    if values.size == 0:
        return np.array([], dtype="float64")
    quantiles = np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1))
    if quantiles[0] == quantiles[-1]:
        constant = quantiles[0]
        return np.array([constant, np.nextafter(constant, np.inf)])
    return np.unique(quantiles[1:-1])


def numeric_bin_counts(values: pd.Series, edges: np.ndarray) -> np.ndarray:
    """Counts per bin ``(-inf, e1), [e1, e2), ..., [ek, inf)`` plus a last bin for NaN."""
    numbers = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64")
    missing = np.isnan(numbers)
    bin_ids = np.searchsorted(edges, numbers[~missing], side="right")
    counts = np.bincount(bin_ids, minlength=edges.size + 1)
    return np.append(counts, missing.sum())


def numeric_psi(
    reference: pd.Series, current: pd.Series, n_bins: int = 10, epsilon: float = 1e-4
) -> float:
    """PSI of a numeric column over reference-quantile bins, NaN being a bin of its own."""
    edges = numeric_bin_edges(reference, n_bins)
    return psi_from_counts(
        numeric_bin_counts(reference, edges), numeric_bin_counts(current, edges), epsilon
    )


def _category_labels(values: pd.Series, known: Iterable[Any] | None = None) -> pd.Series:
    labels = values.astype("object").where(values.notna(), MISSING)
    if known is not None:
        known_set = set(known) | {MISSING}
        labels = labels.where(labels.isin(known_set), UNSEEN)
    return labels


def categorical_psi(reference: pd.Series, current: pd.Series, epsilon: float = 1e-4) -> float:
    """PSI over the reference's categories; missing values are a category of their own and
    categories the reference never had are pooled into one 'unseen' bin."""
    reference_labels = _category_labels(reference)
    current_labels = _category_labels(current, known=reference_labels.unique())
    categories = [label for label in pd.unique(reference_labels) if label != MISSING]
    bins = [*categories, MISSING, UNSEEN]
    reference_counts = reference_labels.value_counts().reindex(bins, fill_value=0)
    current_counts = current_labels.value_counts().reindex(bins, fill_value=0)
    return psi_from_counts(reference_counts.to_numpy(), current_counts.to_numpy(), epsilon)


def drift_status(psi: float, warn: float, alert: float) -> str:
    """'alert' from ``alert`` up, 'warn' from ``warn`` up, else 'ok'."""
    if psi >= alert:
        return "alert"
    if psi >= warn:
        return "warn"
    return "ok"


def _require_rows(data: pd.DataFrame, dataset: str) -> None:
    if data.empty:
        raise ValueError(f"dataset '{dataset}' has no rows: drift needs reference and current rows")


def compute_drift_report(
    train_set: pd.DataFrame,
    scoring_set: pd.DataFrame,
    train_scores: pd.DataFrame,
    batch_scores: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """PSI and status of every numeric and categorical feature and of the score.

    Columns: feature, kind (numeric | categorical | score), psi, status (ok | warn | alert);
    sorted by decreasing PSI.
    """
    numeric, categorical = list(columns["numeric"]), list(columns["categorical"])
    score_column = params["score_column"]
    for data, name in ((train_set, "train_set"), (scoring_set, "scoring_set")):
        _require_rows(data, name)
        require_columns(data, numeric, f"dataset '{name}'", role="numeric")
        require_columns(data, categorical, f"dataset '{name}'", role="categorical")
    for data, name in ((train_scores, "train_scores"), (batch_scores, "batch_scores")):
        _require_rows(data, name)
        require_columns(data, [score_column], f"dataset '{name}'", role="score")

    n_bins, epsilon = params["n_bins"], params["epsilon"]
    rows = [
        {
            "feature": column,
            "kind": "numeric",
            "psi": numeric_psi(train_set[column], scoring_set[column], n_bins, epsilon),
        }
        for column in numeric
    ]
    rows += [
        {
            "feature": column,
            "kind": "categorical",
            "psi": categorical_psi(train_set[column], scoring_set[column], epsilon),
        }
        for column in categorical
    ]
    rows.append(
        {
            "feature": score_column,
            "kind": "score",
            "psi": numeric_psi(
                train_scores[score_column], batch_scores[score_column], n_bins, epsilon
            ),
        }
    )
    report = pd.DataFrame(rows, columns=["feature", "kind", "psi"])
    thresholds = params["thresholds"]
    report["status"] = [
        drift_status(psi, thresholds["warn"], thresholds["alert"]) for psi in report["psi"]
    ]
    return report.sort_values(
        ["psi", "feature"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def summarise_drift(drift_report: pd.DataFrame) -> dict[str, Any]:
    """The verdict a person or an alerting rule reads first; logs a WARNING on alerts."""
    alerts = drift_report.loc[drift_report["status"] == "alert"]
    warned = drift_report.loc[drift_report["status"] == "warn"]
    score_rows = drift_report.loc[drift_report["kind"] == "score", "psi"]
    summary = {
        "drift_detected": bool(len(alerts) > 0),
        "alert_features": alerts["feature"].tolist(),
        "warn_features": warned["feature"].tolist(),
        "max_psi": float(drift_report["psi"].max()),
        "score_psi": float(score_rows.iloc[0]) if len(score_rows) else None,
    }
    if summary["drift_detected"]:
        logger.warning(
            "Drift alert (PSI above the alert threshold) between the training rows and the "
            "scoring rows for: %s",
            ", ".join(f"{row.feature} (PSI {row.psi:.3f})" for row in alerts.itertuples()),
        )
    return summary


def _metric_name(feature: str) -> str:
    """MLflow metric names allow letters, digits, _ - . space and /."""
    return re.sub(r"[^\w\-. /]", "_", feature)


def drift_mlflow_metrics(drift_report: pd.DataFrame) -> dict[str, dict[str, float | int]]:
    """``psi.<feature>`` per row of the report (the score included), plus ``max_psi``.

    The catalog ``prefix`` (``drift``) makes the names in MLflow ``drift.psi.<feature>``.
    """
    metrics = {
        f"psi.{_metric_name(row.feature)}": {"value": float(row.psi), "step": 0}
        for row in drift_report.itertuples()
    }
    metrics["max_psi"] = {"value": float(drift_report["psi"].max()), "step": 0}
    return metrics


def plot_drift(drift_report: pd.DataFrame, params: dict[str, Any]) -> Figure:
    """Horizontal PSI bars (largest on top), coloured by status, with the threshold lines."""
    thresholds = params["thresholds"]
    ordered = drift_report.sort_values("psi", kind="stable")
    labels = [f"{row.feature} [{row.kind}]" for row in ordered.itertuples()]
    figure = Figure(figsize=(8, 1.5 + 0.3 * len(ordered)), layout="constrained")
    axes = figure.subplots()
    axes.barh(labels, ordered["psi"], color=[STATUS_COLOURS[s] for s in ordered["status"]])
    axes.axvline(thresholds["warn"], color=STATUS_COLOURS["warn"], linestyle="--", label="warn")
    axes.axvline(thresholds["alert"], color=STATUS_COLOURS["alert"], linestyle="--", label="alert")
    axes.set(
        xlabel="population stability index (train rows -> scoring rows)",
        title="Feature and score drift",
        xlim=(0, max(float(ordered["psi"].max()), thresholds["alert"]) * 1.1),
    )
    axes.legend(loc="lower right")
    return figure

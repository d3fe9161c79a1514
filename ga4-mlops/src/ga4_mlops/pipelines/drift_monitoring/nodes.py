"""Population stability index (PSI) of every feature and of the score, reference vs current.

PSI = sum over bins of (current share - reference share) * ln(current share / reference share).
Reference rows = the rows the model was trained on; reference scores = the model's
out-of-sample scores on the test split (scores of its own training rows are optimistic);
current = the rows scored now. The references are the champion's own: the training run logs
them beside the model it registers (``build_drift_reference``), and monitoring reads them from
the run behind the alias, never from a later run the quality gate refused. Bins come from the
reference only, so the same bins are used every time the scoring data changes. Numeric
features: zero and missing are bins of their own, the other values fall into quantile bins of
the reference's non-zero values, so a count that is mostly zero (purchases, revenue) still
shows a shift among its buyers. Categorical features: one bin per reference category, missing,
and every unseen category together; the per-category terms are reported too. The usual reading:
< 0.1 stable, 0.1-0.2 worth a look, > 0.2 a real shift (thresholds are parameters). Drift never
fails the run: it is reported, logged as a warning and sent to MLflow.

The score is ``params drift_monitoring.score_column``: ``calibrated_probability`` for a binary
model, ``calibrated_prediction`` for a regression one (predicted revenue, conf/revenue). An
amount is binned as any numeric column: exact zeros apart, quantile bins of the rest.
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

SCORE_HINT = (
    " (params drift_monitoring.score_column: calibrated_probability for problem_type binary, "
    "calibrated_prediction for regression)"
)

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
    """Inner bin edges at the quantiles of the reference's non-zero values.

    Zero and NaN have bins of their own (``numeric_bin_counts``), so the quantiles describe
    the other values even when most of them are zero. Tied quantiles merge into one bin; a
    constant non-zero value gets edges around it, so values below, equal to and above it
    fall apart.
    """
    values = pd.to_numeric(reference, errors="raise").dropna().to_numpy(dtype="float64")
    values = values[values != 0]
    if values.size == 0:
        return np.array([], dtype="float64")
    quantiles = np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1))
    if quantiles[0] == quantiles[-1]:
        constant = quantiles[0]
        return np.array([constant, np.nextafter(constant, np.inf)])
    return np.unique(quantiles[1:-1])


def numeric_bin_counts(values: pd.Series, edges: np.ndarray) -> np.ndarray:
    """Counts per bin ``(-inf, e1), [e1, e2), ..., [ek, inf)`` of the non-zero values, then
    one bin for exact zeros and a last one for NaN."""
    numbers = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64")
    missing = np.isnan(numbers)
    zero = numbers == 0
    bin_ids = np.searchsorted(edges, numbers[~missing & ~zero], side="right")
    counts = np.bincount(bin_ids, minlength=edges.size + 1)
    return np.append(counts, [zero.sum(), missing.sum()])


def numeric_psi(
    reference: pd.Series, current: pd.Series, n_bins: int = 10, epsilon: float = 1e-4
) -> float:
    """PSI of a numeric column: reference-quantile bins, plus one for zero and one for NaN."""
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


def category_shares(reference: pd.Series, current: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Reference and current counts over the reference's categories, missing and unseen."""
    reference_labels = _category_labels(reference)
    current_labels = _category_labels(current, known=reference_labels.unique())
    categories = [label for label in pd.unique(reference_labels) if label != MISSING]
    bins = [*categories, MISSING, UNSEEN]
    return (
        reference_labels.value_counts().reindex(bins, fill_value=0),
        current_labels.value_counts().reindex(bins, fill_value=0),
    )


def categorical_psi(reference: pd.Series, current: pd.Series, epsilon: float = 1e-4) -> float:
    """PSI over the reference's categories; missing values are a category of their own and
    categories the reference never had are pooled into one 'unseen' bin."""
    reference_counts, current_counts = category_shares(reference, current)
    return psi_from_counts(reference_counts.to_numpy(), current_counts.to_numpy(), epsilon)


def category_drift(
    reference_rows: pd.DataFrame,
    current_rows: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """PSI by category: each categorical feature's bins with both shares and their PSI term
    (the terms of a feature sum to its PSI), largest terms first. Tells *which* traffic
    source or device moved, not only that the feature did."""
    epsilon = params["epsilon"]
    frames = []
    for column in columns["categorical"]:
        reference_counts, current_counts = category_shares(
            reference_rows[column], current_rows[column]
        )
        reference_share = np.maximum(reference_counts / reference_counts.sum(), epsilon)
        current_share = np.maximum(current_counts / current_counts.sum(), epsilon)
        frames.append(
            pd.DataFrame(
                {
                    "feature": column,
                    "category": reference_counts.index.astype(str),
                    "reference_share": (reference_counts / reference_counts.sum()).to_numpy(),
                    "current_share": (current_counts / current_counts.sum()).to_numpy(),
                    "psi_term": (
                        (current_share - reference_share) * np.log(current_share / reference_share)
                    ).to_numpy(),
                }
            )
        )
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            columns=["feature", "category", "reference_share", "current_share", "psi_term"]
        )
    )
    return table.sort_values(
        ["psi_term", "feature", "category"],
        ascending=[False, True, True],
        kind="stable",
        ignore_index=True,
    )


def drift_status(psi: float, warn: float, alert: float) -> str:
    """'alert' from ``alert`` up, 'warn' from ``warn`` up, else 'ok'."""
    if psi >= alert:
        return "alert"
    if psi >= warn:
        return "warn"
    return "ok"


def _require_rows(data: pd.DataFrame, what: str) -> None:
    if data.empty:
        raise ValueError(f"{what} has no rows: drift needs reference and current rows")


def build_drift_reference(
    train_set: pd.DataFrame,
    test_predictions: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The references drift compares with, as the training run logs them beside the model it
    registers: the train rows' feature columns and the test split's out-of-sample scores, and
    a summary of both that the promotion waits for (an alias never points at a run whose
    references are not logged yet).

    Monitoring loads them from the run behind the champion alias (``drift_reference_rows``,
    ``drift_reference_scores``), so a later run that the quality gate refused never becomes
    the reference. At most ``params["reference_max_rows"]`` train rows are kept (a sample
    with a fixed seed when the train split is larger), so the artifact stays bounded.
    """
    features = [*columns["numeric"], *columns["categorical"]]
    score_column = params["score_column"]
    _require_rows(train_set, "dataset 'train_set'")
    require_columns(train_set, features, "dataset 'train_set'", role="feature")
    _require_rows(test_predictions, "dataset 'test_predictions'")
    require_columns(
        test_predictions,
        [score_column],
        "dataset 'test_predictions'",
        role="score",
        hint=SCORE_HINT,
    )
    max_rows = int(params["reference_max_rows"])
    rows = train_set[features]
    if len(rows) > max_rows:
        rows = rows.sample(n=max_rows, random_state=0)
    scores = test_predictions[[score_column]].reset_index(drop=True)
    summary = {
        "train_rows": len(rows),
        "train_rows_of": len(train_set),
        "test_scores": len(scores),
        "test_score_mean": float(scores[score_column].mean()),
    }
    return rows.reset_index(drop=True), scores, summary


def compute_drift_report(
    reference_rows: pd.DataFrame,
    current_rows: pd.DataFrame,
    reference_scores: pd.DataFrame,
    current_scores: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
    datasets: tuple[str, str, str, str] = (
        "drift_reference_rows",
        "scoring_set",
        "drift_reference_scores",
        "batch_scores",
    ),
) -> pd.DataFrame:
    """PSI and status of every numeric and categorical feature and of the score.

    Reference rows: the champion's train split; reference scores: the champion's out-of-sample
    scores of its test split (both from ``build_drift_reference``, logged by the run that
    registered the champion). ``datasets`` names the four inputs in error messages. Columns:
    feature, kind (numeric | categorical | score), psi, status (ok | warn | alert); sorted by
    decreasing PSI.
    """
    numeric, categorical = list(columns["numeric"]), list(columns["categorical"])
    score_column = params["score_column"]
    names = [f"dataset '{name}'" for name in datasets]
    for data, name in ((reference_rows, names[0]), (current_rows, names[1])):
        _require_rows(data, name)
        require_columns(data, numeric, name, role="numeric")
        require_columns(data, categorical, name, role="categorical")
    for data, name in ((reference_scores, names[2]), (current_scores, names[3])):
        _require_rows(data, name)
        require_columns(data, [score_column], name, role="score", hint=SCORE_HINT)

    n_bins, epsilon = params["n_bins"], params["epsilon"]
    rows = [
        {
            "feature": column,
            "kind": "numeric",
            "psi": numeric_psi(reference_rows[column], current_rows[column], n_bins, epsilon),
        }
        for column in numeric
    ]
    rows += [
        {
            "feature": column,
            "kind": "categorical",
            "psi": categorical_psi(reference_rows[column], current_rows[column], epsilon),
        }
        for column in categorical
    ]
    rows.append(
        {
            "feature": score_column,
            "kind": "score",
            "psi": numeric_psi(
                reference_scores[score_column], current_scores[score_column], n_bins, epsilon
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


def drift_tables(
    reference_rows: pd.DataFrame,
    current_rows: pd.DataFrame,
    reference_scores: pd.DataFrame,
    current_scores: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``compute_drift_report`` and ``category_drift`` in one node: it reads the current scores,
    so it runs after they exist, hence after this run's promotion decision, and the champion's
    references it reads belong to the model that produced them."""
    return (
        compute_drift_report(
            reference_rows, current_rows, reference_scores, current_scores, columns, params
        ),
        category_drift(reference_rows, current_rows, columns, params),
    )


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

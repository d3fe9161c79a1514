"""Realized performance: past score partitions joined with the labels that became known.

An as-of date S is evaluated once its whole horizon [S, S + horizon_days) is in the data.
Its label is derived from the users' active days (``user_activity_days.sql``) as the
training query derives it: a target event in the horizon (``purchase``, ``add_to_cart``),
or no event at all for ``churn``. Per date: ROC-AUC, PR-AUC, ECE and lift at the top 5%,
beside the figures the scoring model version had on its test split. Nothing labelled yet
is a normal state of a young deployment: reported, never an error.

``problem_type`` ``regression`` (predicted revenue, label ``revenue``): each scored user's
realized revenue in [S, S + horizon_days) (the ``revenue_usd`` of their active days, 0 without
any), and per date ``regression_report``'s normalized Gini, total relative error, RMSE, MAE
and decile calibration error of the score against it, beside the test figures.
``multiclass`` (label ``category``): ``multiclass.py``.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ga4_mlops.checks import require_columns
from ga4_mlops.pipelines.inference.nodes import data_range
from ga4_mlops.pipelines.model_evaluation.nodes import classification_metrics
from ga4_mlops.pipelines.model_evaluation.regression_metrics import regression_report
from ga4_mlops.problem_types import (
    BINARY,
    MULTICLASS,
    REGRESSION,
    class_score_columns,
    problem_type,
)

from .multiclass import (
    CATEGORY,
    MULTICLASS_METRICS,
    realized_categories,
    realized_multiclass_performance,
)

logger = logging.getLogger(__name__)

NOTHING_YET = "nothing to evaluate yet"
EVALUATED = "evaluated"
METRICS = ("roc_auc", "pr_auc", "ece", "lift_at_5pct")
# Regression (predicted revenue): columns of regression_report, the first four plotted.
REGRESSION_METRICS = (
    "normalized_gini",
    "total_relative_error",
    "rmse",
    "decile_calibration_error",
    "mae",
)
REVENUE = "revenue"
TARGET_KINDS = ("event", "churn", REVENUE, CATEGORY)
# The label each problem type is measured against.
LABEL_KINDS = {BINARY: ("event", "churn"), REGRESSION: (REVENUE,), MULTICLASS: (CATEGORY,)}
ACTIVITY_DATASET = "ga4_events@activity_days"


def _report_columns(metrics: tuple[str, ...], count: str) -> list[str]:
    return [
        "as_of_date",
        "model_version",
        "n_users",
        count,
        *metrics,
        *(f"test_{metric}" for metric in metrics),
        *(f"{metric}_change" for metric in metrics),
    ]


REPORT_COLUMNS = _report_columns(METRICS, "n_positives")
# n_buyers: scored users with realized revenue > 0.
REGRESSION_REPORT_COLUMNS = _report_columns(REGRESSION_METRICS, "n_buyers")
MULTICLASS_REPORT_COLUMNS = _report_columns(MULTICLASS_METRICS, "n_buyers")


def _report_metrics(realized_performance: pd.DataFrame) -> tuple[str, ...]:
    """The metrics of a realized-performance table, told apart by their columns."""
    if "normalized_gini" in realized_performance:
        return REGRESSION_METRICS
    return MULTICLASS_METRICS if "top_1_accuracy" in realized_performance else METRICS


def _load_partitions(partitions: dict[str, Callable[[], pd.DataFrame]]) -> pd.DataFrame:
    frames = [load() for _, load in sorted(partitions.items())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def label_past_scores(
    inference_scores: dict[str, Callable[[], pd.DataFrame]],
    activity_days: pd.DataFrame,
    data_window: pd.DataFrame,
    params: dict[str, Any],
    columns: dict[str, Any],
) -> pd.DataFrame:
    """Scores of every as-of date whose horizon is fully observed, with their label.

    ``params``: ``horizon_days``, ``label`` (``event``: a target event in the horizon;
    ``churn``: no event at all; ``revenue``: the purchase revenue in it, 0 without any, for
    ``problem_type`` regression; ``category``: the first purchase's category, multiclass, whose
    scores are the calibrated class probabilities), ``score_column``. Dates still waiting for
    their labels are logged and left out.
    """
    kind = params["label"]
    if kind not in TARGET_KINDS:
        raise ValueError(
            f"params performance_monitoring.label must be one of {TARGET_KINDS}, got {kind!r}"
        )
    target_kind = problem_type(columns)
    regression, multiclass = target_kind == REGRESSION, target_kind == MULTICLASS
    if kind not in LABEL_KINDS[target_kind]:
        raise ValueError(
            f"params performance_monitoring.label {kind!r} does not fit params model_input."
            f"columns.problem_type {target_kind!r}: regression is measured against label "
            f"'{REVENUE}' (realized revenue), multiclass against '{CATEGORY}' (the first "
            "purchase's category), binary against 'event' or 'churn'"
        )
    user, date_column = columns["id"][0], columns["date"]
    score = class_score_columns("calibrated", columns) if multiclass else [params["score_column"]]
    scores = _load_partitions(inference_scores)
    out_columns = [user, date_column, *score, "model_version", "label"]
    if scores.empty:
        logger.info("inference_scores has no partition yet: %s", NOTHING_YET)
        return pd.DataFrame(columns=out_columns)
    require_columns(
        scores, [user, date_column, *score, "model_version"], "dataset 'inference_scores'"
    )
    require_columns(
        activity_days,
        ["user_pseudo_id", "event_day", "events", "target_events"]
        + (["revenue_usd"] if regression else [])
        + (["first_purchase_category"] if multiclass else []),
        ACTIVITY_DATASET,
    )
    _, data_last = data_range(data_window)
    horizon = int(params["horizon_days"])
    scores = scores.assign(**{date_column: pd.to_datetime(scores[date_column])})
    days = pd.to_datetime(activity_days["event_day"])
    labelled = []
    for as_of, rows in scores.groupby(date_column, sort=True):
        horizon_last = as_of.date() + timedelta(days=horizon - 1)
        if horizon_last > data_last:
            logger.info(
                "as-of date %s: labels known after %s (data end %s)",
                as_of.date(),
                horizon_last,
                data_last,
            )
            continue
        in_horizon = activity_days.loc[(days >= as_of) & (days <= pd.Timestamp(horizon_last))]
        if multiclass:
            realized = realized_categories(rows[user], in_horizon, columns)
            labelled.append(rows.assign(label=realized)[out_columns])
            continue
        if regression:
            revenue = in_horizon.groupby(in_horizon["user_pseudo_id"].astype(str))[
                "revenue_usd"
            ].sum()
            realized = rows[user].astype(str).map(revenue).fillna(0.0).astype("float64")
            labelled.append(rows.assign(label=realized.to_numpy())[out_columns])
            continue
        counted = in_horizon["events"] if kind == "churn" else in_horizon["target_events"]
        active = set(in_horizon.loc[counted > 0, "user_pseudo_id"].astype(str))
        hit = rows[user].astype(str).isin(active).astype("int64")
        labelled.append(rows.assign(label=1 - hit if kind == "churn" else hit)[out_columns])
    if not labelled:
        logger.info("no as-of date has its whole horizon in the data: %s", NOTHING_YET)
        return pd.DataFrame(columns=out_columns)
    return pd.concat(labelled, ignore_index=True)


def _test_figures(
    test_metrics: pd.DataFrame, version: str, metrics: tuple[str, ...] = METRICS
) -> dict[str, float]:
    rows = test_metrics.loc[test_metrics["model_version"].astype(str) == str(version)]
    values = dict(zip(rows["metric"], rows["value"], strict=True))
    return {metric: float(values.get(metric, np.nan)) for metric in metrics}


def compute_realized_performance(
    labelled_scores: pd.DataFrame,
    test_metrics: pd.DataFrame,
    params: dict[str, Any],
    columns: dict[str, Any],
) -> pd.DataFrame:
    """One row per (as-of date, model version): realized metrics, test figures, change.

    A date with a single label value has no ROC-AUC: its metrics stay empty (NaN). For
    ``problem_type`` regression the metrics are ``REGRESSION_METRICS`` of the score against
    realized revenue; a date without any revenue has none (NaN); multiclass:
    ``MULTICLASS_METRICS`` of the class probabilities against the realized category.
    """
    if problem_type(columns) == MULTICLASS:
        return realized_multiclass_performance(
            labelled_scores,
            lambda version: _test_figures(test_metrics, version, MULTICLASS_METRICS),
            params,
            columns,
            MULTICLASS_REPORT_COLUMNS,
        )
    if problem_type(columns) != BINARY:
        return _realized_regression_performance(labelled_scores, test_metrics, params, columns)
    date_column, score = columns["date"], params["score_column"]
    rows = []
    for (as_of, version), group in labelled_scores.groupby(
        [date_column, "model_version"], sort=True
    ):
        labels = group["label"].to_numpy(dtype="int64")
        realized = dict.fromkeys(METRICS, np.nan)
        if 0 < labels.sum() < labels.size:
            all_metrics = classification_metrics(
                labels,
                group[score].to_numpy(dtype="float64"),
                top_fractions=[0.05],
                n_bins=params["n_bins"],
                strategy=params["calibration_strategy"],
            )
            realized = {metric: all_metrics[metric] for metric in METRICS}
        test = _test_figures(test_metrics, version)
        rows.append(
            {
                "as_of_date": pd.Timestamp(as_of).strftime("%Y-%m-%d"),
                "model_version": str(version),
                "n_users": int(labels.size),
                "n_positives": int(labels.sum()),
                **realized,
                **{f"test_{m}": test[m] for m in METRICS},
                **{f"{m}_change": realized[m] - test[m] for m in METRICS},
            }
        )
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


def _realized_regression_performance(
    labelled_scores: pd.DataFrame,
    test_metrics: pd.DataFrame,
    params: dict[str, Any],
    columns: dict[str, Any],
) -> pd.DataFrame:
    """``compute_realized_performance`` for predicted revenue: one row per (as-of date, model
    version) with ``regression_report``'s figures of the score vs realized revenue."""
    date_column, score = columns["date"], params["score_column"]
    rows = []
    for (as_of, version), group in labelled_scores.groupby(
        [date_column, "model_version"], sort=True
    ):
        revenue = group["label"].to_numpy(dtype="float64")
        realized = dict.fromkeys(REGRESSION_METRICS, np.nan)
        if revenue.sum() > 0 and np.ptp(revenue) > 0:  # else nothing to rank: no Gini
            report = regression_report(
                revenue, {"realized": group[score].to_numpy(dtype="float64")}, params["n_bins"]
            )
            realized = {metric: float(report.loc[0, metric]) for metric in REGRESSION_METRICS}
        test = _test_figures(test_metrics, version, REGRESSION_METRICS)
        rows.append(
            {
                "as_of_date": pd.Timestamp(as_of).strftime("%Y-%m-%d"),
                "model_version": str(version),
                "n_users": int(revenue.size),
                "n_buyers": int((revenue > 0).sum()),
                **realized,
                **{f"test_{m}": test[m] for m in REGRESSION_METRICS},
                **{f"{m}_change": realized[m] - test[m] for m in REGRESSION_METRICS},
            }
        )
    return pd.DataFrame(rows, columns=REGRESSION_REPORT_COLUMNS)


def _number(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def summarise_realized_performance(realized_performance: pd.DataFrame) -> dict[str, Any]:
    """What the retraining decision and a person read: status and the latest date's figures.

    Each history entry has the metrics' changes against the test figures, and the realized
    ECE (binary) or total relative error (regression), which the decay rules read.
    """
    if realized_performance.empty:
        logger.info("Realized performance: %s (no scored as-of date has its labels)", NOTHING_YET)
        return {"status": NOTHING_YET, "evaluated_as_of_dates": [], "history": []}
    latest = realized_performance.iloc[-1]
    metrics = _report_metrics(realized_performance)
    if metrics != METRICS:
        # the level the decay rules read beside the changes: regression's total, multiclass's ECE
        level = "total_relative_error" if metrics == REGRESSION_METRICS else "macro_ece"
        return {
            "status": EVALUATED,
            "evaluated_as_of_dates": realized_performance["as_of_date"].tolist(),
            "latest_as_of_date": str(latest["as_of_date"]),
            "latest": {
                column: _number(latest[column]) for column in _report_columns(metrics, "")[4:]
            },
            "history": [
                {
                    "as_of_date": row["as_of_date"],
                    **{f"{m}_change": _number(row[f"{m}_change"]) for m in metrics},
                    level: _number(row[level]),
                }
                for _, row in realized_performance.iterrows()
            ],
        }
    return {
        "status": EVALUATED,
        "evaluated_as_of_dates": realized_performance["as_of_date"].tolist(),
        "latest_as_of_date": str(latest["as_of_date"]),
        "latest": {
            column: (None if pd.isna(latest[column]) else float(latest[column]))
            for column in REPORT_COLUMNS[4:]
        },
        "history": [
            {
                "as_of_date": row.as_of_date,
                **{
                    f"{m}_change": None
                    if pd.isna(getattr(row, f"{m}_change"))
                    else float(getattr(row, f"{m}_change"))
                    for m in METRICS
                },
                "ece": None if pd.isna(row.ece) else float(row.ece),
            }
            for row in realized_performance.itertuples()
        ],
    }


def realized_performance_mlflow_metrics(
    realized_performance: pd.DataFrame,
) -> dict[str, list[dict[str, float | int]]]:
    """``realized.<metric>`` with one step per as-of date (step = days since 1970-01-01), so
    MLflow draws each metric over time."""
    metrics: dict[str, list[dict[str, float | int]]] = {}
    for row in realized_performance.itertuples():
        step = int(pd.Timestamp(row.as_of_date).value // 86_400_000_000_000)
        for metric in _report_metrics(realized_performance):
            value = getattr(row, metric)
            if not pd.isna(value):
                metrics.setdefault(metric, []).append({"value": float(value), "step": step})
    return metrics


def plot_realized_performance(realized_performance: pd.DataFrame) -> Figure:
    """One panel per metric: realized per as-of date (line) against the test figure (dashed);
    regression: normalized Gini, total relative error, RMSE and decile calibration error."""
    figure = Figure(figsize=(10, 6), layout="constrained")
    axes = figure.subplots(2, 2).ravel()
    dates = pd.to_datetime(realized_performance["as_of_date"])
    for ax, metric in zip(axes, _report_metrics(realized_performance)[:4], strict=True):
        ax.plot(dates, realized_performance[metric], marker="o", label="realized")
        ax.plot(dates, realized_performance[f"test_{metric}"], linestyle="--", label="test split")
        ax.set(title=metric, xlabel="as-of date")
        ax.tick_params(axis="x", labelrotation=30)
        if realized_performance.empty:
            ax.text(0.5, 0.5, NOTHING_YET, ha="center", va="center", transform=ax.transAxes)
    axes[0].legend(loc="best")
    figure.suptitle("Realized performance of past scores")
    return figure

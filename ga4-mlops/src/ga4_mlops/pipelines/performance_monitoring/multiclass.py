"""Realized performance of a multiclass model (the category of the next purchase).

A past as-of date S's realized label is the category of the first item of the user's first
purchase in [S, S + horizon_days) (``first_purchase_category`` of the earliest active day in
that window that has one, ``user_activity_days.sql``), or the first class of
``columns.classes`` (``(none)``) without a purchase: the feature query's
``next_purchase_category``. Per date: ``multiclass_report``'s log loss, top-1 and top-3
accuracy and macro ECE of the served class probabilities, beside the version's test figures.
"""

from typing import Any

import numpy as np
import pandas as pd

from ga4_mlops.pipelines.model_evaluation.multiclass_metrics import multiclass_report
from ga4_mlops.problem_types import class_labels, class_score_columns, target_values

MULTICLASS_METRICS = ("log_loss", "top_1_accuracy", "top_3_accuracy", "macro_ece")
CATEGORY = "category"  # params performance_monitoring.label of a multiclass model


def realized_categories(
    users: pd.Series, in_horizon: pd.DataFrame, columns: dict[str, Any]
) -> np.ndarray:
    """Each user's first purchase category in the window (one row per user and day: the
    earliest day with one), else the no-purchase class."""
    bought = in_horizon.dropna(subset=["first_purchase_category"])
    bought = bought.sort_values("event_day", kind="stable").drop_duplicates("user_pseudo_id")
    first = pd.Series(
        bought["first_purchase_category"].to_numpy(),
        index=bought["user_pseudo_id"].astype(str).to_numpy(),
    )
    none_label = class_labels(columns)[0]
    return users.astype(str).map(first).fillna(none_label).to_numpy(dtype=object)


def realized_multiclass_performance(
    labelled_scores: pd.DataFrame,
    test_figures: Any,
    params: dict[str, Any],
    columns: dict[str, Any],
    report_columns: list[str],
) -> pd.DataFrame:
    """One row per (as-of date, model version): ``MULTICLASS_METRICS`` of the calibrated class
    probabilities against the realized categories, the test figures and the change.

    ``test_figures(version)`` gives the version's test metrics (performance_monitoring's
    ``_test_figures`` for these metrics).
    """
    date_column = columns["date"]
    score_columns = class_score_columns("calibrated", columns)
    rows = []
    for (as_of, version), group in labelled_scores.groupby(
        [date_column, "model_version"], sort=True
    ):
        codes = target_values(group.assign(**{columns["target"]: group["label"]}), columns)
        report = multiclass_report(
            codes,
            {"realized": group[score_columns].to_numpy(dtype="float64")},
            class_labels(columns),
            n_bins=params["n_bins"],
            strategy=params["calibration_strategy"],
        )
        realized = {metric: float(report.loc[0, metric]) for metric in MULTICLASS_METRICS}
        test = test_figures(version)
        rows.append(
            {
                "as_of_date": pd.Timestamp(as_of).strftime("%Y-%m-%d"),
                "model_version": str(version),
                "n_users": int(codes.size),
                "n_buyers": int((codes > 0).sum()),
                **realized,
                **{f"test_{m}": test[m] for m in MULTICLASS_METRICS},
                **{f"{m}_change": realized[m] - test[m] for m in MULTICLASS_METRICS},
            }
        )
    return pd.DataFrame(rows, columns=report_columns)

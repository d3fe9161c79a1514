"""Features of one as-of date, checked, scored by the champion, written as one partition.

The feature query runs in the catalog for the date given at run time (``--params
as_of_date=YYYY-MM-DD``, or ``latest``: the day after the newest event). These nodes refuse
a date the data cannot describe, naming the date and the data's range, and key the scores
by their as-of date so that weekly runs add partitions instead of replacing each other.
"""

import logging
from datetime import date, timedelta
from typing import Any

import pandas as pd

from ga4_mlops.checks import require_columns

logger = logging.getLogger(__name__)

FEATURES_DATASET = "ga4_events@inference_features"
WINDOW_DATASET = "ga4_events@data_window"
LATEST = "latest"


def data_range(data_window: pd.DataFrame) -> tuple[date, date]:
    """First and last event day of the export (the one-row result of data_window.sql)."""
    require_columns(data_window, ["data_first_date", "data_last_date"], f"{WINDOW_DATASET}")
    first = pd.to_datetime(data_window["data_first_date"]).min()
    last = pd.to_datetime(data_window["data_last_date"]).max()
    if pd.isna(first) or pd.isna(last):
        raise ValueError(
            f"{WINDOW_DATASET} found no events at all in the date window read: write the GA4 "
            "export under data/01_raw/ga4_events (or run the data_generation pipeline)"
        )
    return first.date(), last.date()


def resolve_as_of_date(as_of_date: Any, data_last: date) -> date:
    """``latest`` is the day after the newest event; anything else must be YYYY-MM-DD."""
    if str(as_of_date).strip().lower() == LATEST:
        return data_last + timedelta(days=1)
    try:
        return date.fromisoformat(str(as_of_date).strip())
    except ValueError as error:
        raise ValueError(
            f"params inference.as_of_date must be 'latest' or a 'YYYY-MM-DD' date (run with "
            f"--params as_of_date=2021-02-08), got {as_of_date!r}"
        ) from error


def prepare_inference_rows(
    user_features: pd.DataFrame,
    data_window: pd.DataFrame,
    params: dict[str, Any],
    columns: dict[str, Any],
) -> pd.DataFrame:
    """The model-input rows of the as-of date: ids and features, typed alike, no label.

    Fails, naming the as-of date and the data's range, when the date has no user with an
    event in its lookback, when its lookback starts before the data (unless
    ``allow_partial_lookback``) or when it lies beyond the day after the data end (its
    lookback would miss days that simply are not exported yet).
    """
    first, last = data_range(data_window)
    as_of = resolve_as_of_date(params["as_of_date"], last)
    lookback = int(params["lookback_days"])
    lookback_first, lookback_last = as_of - timedelta(days=lookback), as_of - timedelta(days=1)
    where = (
        f"as-of date {as_of} (lookback [{lookback_first}, {lookback_last}]); the data cover "
        f"[{first}, {last}]"
    )
    if as_of > last + timedelta(days=1):
        raise ValueError(
            f"{where}: the as-of date is after {last + timedelta(days=1)}, the day after the "
            "newest event, so its lookback misses days not exported yet. Use "
            "--params as_of_date=latest or an earlier date"
        )
    if lookback_first < first and not params.get("allow_partial_lookback", False):
        raise ValueError(
            f"{where}: the lookback starts before the data, so the features would come from "
            "a shorter history than the model was trained on. Pick a later as-of date"
        )
    date_column = columns["date"]
    feature_columns = [*columns["numeric"], *columns["categorical"]]
    require_columns(
        user_features, [*columns["id"], *feature_columns], FEATURES_DATASET, role="model input"
    )
    days = pd.to_datetime(user_features[date_column]).dt.date
    rows = user_features.loc[days == as_of, [*columns["id"], *feature_columns]]
    if rows.empty:
        raise ValueError(f"{FEATURES_DATASET} has no users for {where}: nothing to score")
    rows = rows.copy()
    for column in columns["id"]:
        if column != date_column:
            rows[column] = rows[column].astype(str)
    rows[date_column] = pd.to_datetime(rows[date_column]).astype("datetime64[ns]")
    for column in columns["numeric"]:
        rows[column] = pd.to_numeric(rows[column], errors="raise").astype("float64")
    for column in columns["categorical"]:
        values = rows[column].astype("object")
        rows[column] = values.where(values.notna(), None)
    duplicated = rows.duplicated(subset=columns["id"])
    if duplicated.any():
        raise ValueError(
            f"{FEATURES_DATASET} has {int(duplicated.sum())} duplicated {columns['id']} rows "
            f"for as-of date {as_of}: the query must return one row per user"
        )
    logger.info("as-of date %s: %d users to score (data %s .. %s)", as_of, len(rows), first, last)
    return rows.sort_values(columns["id"], ignore_index=True)


def as_of_partitions(
    scores: pd.DataFrame, rows: pd.DataFrame, columns: dict[str, Any]
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Scores and the rows they came from, each keyed by as-of date (``YYYY-MM-DD``).

    Saved to a ``PartitionedDataset``, a key adds (or, for the same date, replaces) one
    file and leaves every other week's file as it was.
    """
    dates = pd.to_datetime(scores[columns["date"]]).dt.strftime("%Y-%m-%d").unique()
    if len(dates) != 1:
        raise ValueError(f"inference scores must hold one as-of date, found {sorted(dates)}")
    return {dates[0]: scores}, {dates[0]: rows}

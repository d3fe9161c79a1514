"""Check the feature query's result and turn it into the model-input table.

The query (``src/ga4_mlops/sql/user_features.sql``) runs inside the catalog: DuckDB locally,
BigQuery on GCP. The two engines return slightly different dtypes, and a wrong date window
or snapshot list yields a table that *looks* fine but trains on nothing. This node fails fast
on such input with a message that says which parameter or date to change, and gives every
engine's result the same types.
"""

import logging
from datetime import date, timedelta
from typing import Any

import pandas as pd

from ga4_mlops.pipelines.feature_engineering.splits import assign_by_date, normalise_splits
from ga4_mlops.problem_types import MULTICLASS, REGRESSION, class_labels, problem_type

logger = logging.getLogger(__name__)

RAW_DATASET = "ga4_events@user_features"
# Returned by the query for these checks only; not model input.
DATA_WINDOW_COLUMNS = ("data_first_date", "data_last_date")
SCORING_SPLIT = "scoring"


def _parse_day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise ValueError(
            f"params feature_extraction.feature_query.{name} must be a 'YYYY-MM-DD' date, "
            f"got {value!r}"
        ) from error


def _check_query_parameters(feature_query: dict[str, Any]) -> tuple[list[date], int, int]:
    """Reject parameters that cannot give a table, before blaming the data."""
    start = _parse_day(feature_query["start_date"], "start_date")
    end = _parse_day(feature_query["end_date"], "end_date")
    if start > end:
        raise ValueError(
            f"params feature_extraction.feature_query has an empty date window: start_date "
            f"{start} is after end_date {end}"
        )
    lookback, horizon = int(feature_query["lookback_days"]), int(feature_query["horizon_days"])
    if lookback < 1 or horizon < 1:
        raise ValueError(
            "params feature_extraction.feature_query.lookback_days and horizon_days must be "
            f">= 1, got {lookback} and {horizon}"
        )
    fraction = float(feature_query["sample_fraction"])
    if not 0 < fraction <= 1:
        raise ValueError(
            f"params feature_extraction.feature_query.sample_fraction must be in (0, 1], "
            f"got {fraction}"
        )
    snapshots = [_parse_day(d, "snapshot_dates") for d in feature_query["snapshot_dates"]]
    if not snapshots:
        raise ValueError("params feature_extraction.feature_query.snapshot_dates is empty")
    for snapshot in snapshots:
        first_day = snapshot - timedelta(days=lookback)
        if snapshot <= start or first_day > end:
            raise ValueError(
                f"snapshot {snapshot} is outside the date window [{start}, {end}] of "
                f"feature_query: its lookback [{first_day}, {snapshot - timedelta(days=1)}] "
                "reads no day of it"
            )
    return snapshots, lookback, horizon


def other_targets(columns: dict[str, Any]) -> list[str]:
    """Targets kept beside ``target`` (e.g. the horizon's revenue): never model features."""
    return list(columns.get("other_targets") or [])


def _check_columns(raw: pd.DataFrame, columns: dict[str, Any]) -> list[str]:
    """The columns the table must keep, in order; fail if the query did not return them."""
    keep = list(
        dict.fromkeys(
            [
                *columns["id"],
                columns["date"],
                *columns["numeric"],
                *columns["categorical"],
                columns["target"],
                *other_targets(columns),
            ]
        )
    )
    missing = [c for c in [*keep, *DATA_WINDOW_COLUMNS] if c not in raw.columns]
    if missing:
        raise ValueError(
            f"{RAW_DATASET} lacks column(s) {missing} that params model_input.columns (or "
            f"the checks here) expect; the query returned {sorted(raw.columns)}: align "
            "src/ga4_mlops/sql/user_features.sql and conf/base/parameters_model_input.yml"
        )
    return keep


def _to_datetime(values: pd.Series) -> pd.Series:
    """DuckDB gives datetime64, BigQuery (pandas-gbq) gives db-dtypes dates: one type."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    return pd.to_datetime(values.astype("object")).astype("datetime64[ns]")


def _standardise_types(
    table: pd.DataFrame, columns: dict[str, Any], feature_query: dict[str, Any]
) -> pd.DataFrame:
    """Same dtypes from every engine: ids str, date datetime64, numbers float64, target Int64
    (an amount: float64), other targets float64 (NaN where unknown)."""
    table = table.copy()
    date_column, target = columns["date"], columns["target"]
    for column in columns["id"]:
        if column != date_column:
            table[column] = table[column].astype(str)
    table[date_column] = _to_datetime(table[date_column])
    for column in columns["numeric"]:
        try:
            table[column] = pd.to_numeric(table[column], errors="raise").astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{RAW_DATASET} column '{column}' must be numeric (params model_input.columns."
                f"numeric): {error}"
            ) from error
    for column in columns["categorical"]:
        values = table[column].astype("object")
        table[column] = values.where(values.notna(), None)
    if problem_type(columns) == MULTICLASS:
        table[target] = _class_target(table[target], columns, feature_query)
        return _numeric_other_targets(table, columns)
    labels = pd.to_numeric(table[target], errors="coerce").astype("Float64")
    if problem_type(columns) == REGRESSION:
        bad = table[target].notna() & ~(labels >= 0).fillna(False)
        expected = "an amount >= 0 or NULL (problem_type regression)"
    else:
        bad = table[target].notna() & ~labels.isin([0, 1]).fillna(False)
        expected = "0, 1 or NULL"
    if bad.any():
        raise ValueError(
            f"{RAW_DATASET} column '{target}' must hold {expected}, found "
            f"{sorted(table.loc[bad, target].astype(str).unique())[:5]} (target_event "
            f"{feature_query['target_event']!r})"
        )
    if problem_type(columns) == REGRESSION:
        table[target] = labels.astype("float64")
    else:
        table[target] = labels.astype("Int64")
    return _numeric_other_targets(table, columns)


def _class_target(
    values: pd.Series, columns: dict[str, Any], feature_query: dict[str, Any]
) -> pd.Series:
    """A multiclass target as str labels (None where unknown); a label outside
    ``columns.classes`` stops the run here, named, not in training."""
    labels, target = class_labels(columns), columns["target"]
    values = values.astype("object")
    values = values.where(values.notna(), None)
    bad = values.notna() & ~values.isin(labels)
    if bad.any():
        raise ValueError(
            f"{RAW_DATASET} column '{target}' must hold one of params model_input.columns."
            f"classes {labels} or NULL (problem_type multiclass), found "
            f"{sorted(values[bad].astype(str).unique())[:5]} (horizon_days "
            f"{feature_query['horizon_days']}): add the label to classes"
        )
    return values


def _numeric_other_targets(table: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """Other targets (the purchase label, the horizon's revenue) as float64."""
    for column in other_targets(columns):
        try:
            table[column] = pd.to_numeric(table[column], errors="raise").astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{RAW_DATASET} column '{column}' must be numeric (params model_input.columns."
                f"other_targets): {error}"
            ) from error
    return table


def _split_of_snapshots(splits: dict[str, Any], snapshots: list[date]) -> dict[date, str]:
    """The split of each queried snapshot date; listed split dates the query lacks are errors."""
    splits = normalise_splits(splits)
    if splits["by"] != "date":
        return {}
    listed = [
        _parse_day(day, "snapshot_dates")
        for rule in (splits.get("dates") or {}).values()
        if isinstance(rule, list)
        for day in rule
    ]
    not_queried = sorted(str(d) for d in listed if d not in snapshots)
    if not_queried:
        raise ValueError(
            f"params model_input.splits use snapshot date(s) {not_queried} that "
            "feature_query.snapshot_dates does not list, so the query gives them no rows: "
            "add them to feature_query.snapshot_dates in conf/base/globals.yml"
        )
    queried = pd.Series(pd.to_datetime(snapshots))
    assigned = assign_by_date(queried, splits)
    return {day: name for day, name in zip(snapshots, assigned, strict=True) if name}


def _check_snapshots(
    table: pd.DataFrame,
    data_first: date,
    data_last: date,
    snapshots: list[date],
    lookback: int,
    horizon: int,
    splits: dict[str, list[str]],
    columns: dict[str, Any],
    allow_partial_lookback: bool,
) -> None:
    """Every snapshot has users; labelled ones have their whole horizon inside the data."""
    date_column, target = columns["date"], columns["target"]
    days = table[date_column].dt.date
    split_of = _split_of_snapshots(splits, snapshots)
    for snapshot in snapshots:
        lookback_first = snapshot - timedelta(days=lookback)
        horizon_last = snapshot + timedelta(days=horizon - 1)
        rows = table.loc[days == snapshot]
        if rows.empty:
            raise ValueError(
                f"snapshot {snapshot} has no users in {RAW_DATASET}: no events in its lookback "
                f"[{lookback_first}, {snapshot - timedelta(days=1)}]; the data cover "
                f"[{data_first}, {data_last}]"
            )
        if lookback_first < data_first and not allow_partial_lookback:
            raise ValueError(
                f"snapshot {snapshot} needs events from {lookback_first} (lookback_days="
                f"{lookback}) but the data start on {data_first}: its features would come "
                "from a shorter history. Move the snapshot later, read from an earlier "
                "start_date, or set params feature_extraction.allow_partial_lookback: true"
            )
        split = split_of.get(snapshot)
        unlabelled = int(rows[target].isna().sum())
        if split not in (None, SCORING_SPLIT) and unlabelled:
            raise ValueError(
                f"snapshot {snapshot} of split '{split}' is unlabelled: its horizon "
                f"[{snapshot}, {horizon_last}] (horizon_days={horizon}) runs past the data "
                f"end {data_last}. Use it for scoring only, move it earlier, or read data up "
                f"to {horizon_last}"
            )


def build_model_input_table(
    user_features: pd.DataFrame,
    params: dict[str, Any],
    columns: dict[str, Any],
    splits: dict[str, Any],
    raw_export_report: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Validate the feature query's rows and keep ids, features and label, typed alike.

    Args:
        user_features: the query result, one row per user and snapshot date.
        params: ``params:feature_extraction`` (``feature_query`` as the catalog passed it
            to the query, ``allow_partial_lookback``).
        columns: ``params:model_input.columns``, the column roles of the output.
        splits: ``params:model_input.splits``; every split but scoring must be labelled.
        raw_export_report: what ``check_raw_export`` checked; taking it makes the query
            (this node's first input) load only after the raw contract passed.
    """
    feature_query = params["feature_query"]
    snapshots, lookback, horizon = _check_query_parameters(feature_query)
    keep = _check_columns(user_features, columns)
    if user_features.empty:
        raise ValueError(
            f"{RAW_DATASET} is empty: no user has an event in the lookback of any snapshot "
            f"{[str(s) for s in snapshots]} within the date window "
            f"[{feature_query['start_date']}, {feature_query['end_date']}] (sample_fraction "
            f"{feature_query['sample_fraction']}). Check that the events exist for those days"
        )
    data_first = _to_datetime(user_features["data_first_date"]).min().date()
    data_last = _to_datetime(user_features["data_last_date"]).max().date()
    table = _standardise_types(user_features[keep], columns, feature_query)
    duplicated = table.duplicated(subset=columns["id"])
    if duplicated.any():
        raise ValueError(
            f"{RAW_DATASET} has {int(duplicated.sum())} duplicated {columns['id']} rows: the "
            "query must return one row per user and snapshot date"
        )
    _check_snapshots(
        table,
        data_first,
        data_last,
        snapshots,
        lookback,
        horizon,
        splits,
        columns,
        bool(params.get("allow_partial_lookback", False)),
    )
    if problem_type(columns) == MULTICLASS:
        _check_classes_occur(table, columns, horizon)
    else:
        _check_target_occurs(table, columns, feature_query, horizon)
    order = [columns["date"], *(c for c in columns["id"] if c != columns["date"])]
    return table.sort_values(order, ignore_index=True)


def _check_target_occurs(
    table: pd.DataFrame, columns: dict[str, Any], feature_query: dict[str, Any], horizon: int
) -> None:
    """A target that is 0 in every labelled row is a wrong target_event; log rates."""
    target = columns["target"]
    labelled = table[target].notna()
    if labelled.any() and table.loc[labelled, target].sum() == 0:
        raise ValueError(
            f"target event {feature_query['target_event']!r} never occurs in the "
            f"{horizon}-day horizon of any labelled snapshot ({int(labelled.sum())} rows): "
            "check feature_query.target_event against the event names in the data"
        )
    for snapshot, rows in table.groupby(columns["date"], sort=True):
        labels = rows[target].dropna()
        rate = f"{labels.mean():.4f}" if len(labels) else "n/a (unlabelled)"
        logger.info("snapshot %s: %d users, positive rate %s", snapshot.date(), len(rows), rate)
        if len(labels) and labels.sum() == 0:
            logger.warning(
                "snapshot %s: target event %r never occurs in its horizon",
                snapshot.date(),
                feature_query["target_event"],
            )


def _check_classes_occur(table: pd.DataFrame, columns: dict[str, Any], horizon: int) -> None:
    """One class in every labelled row (e.g. no purchase at all) leaves nothing to learn;
    log each snapshot's class shares."""
    labels = table[columns["target"]].dropna()
    seen = labels.unique()
    if len(labels) and len(seen) < 2:
        raise ValueError(
            f"{RAW_DATASET} column '{columns['target']}' holds only {sorted(seen)} in the "
            f"{horizon}-day horizon of every labelled snapshot ({len(labels)} rows): a "
            f"multiclass target needs at least two of params model_input.columns.classes"
        )
    for snapshot, rows in table.groupby(columns["date"], sort=True):
        labels = rows[columns["target"]].dropna()
        shares = labels.value_counts(normalize=True).round(4).to_dict() if len(labels) else "n/a"
        logger.info("snapshot %s: %d users, class shares %s", snapshot.date(), len(rows), shares)

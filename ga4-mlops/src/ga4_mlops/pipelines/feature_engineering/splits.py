"""Cut the model-input table into train, validation, calibration, test and scoring.

``params model_input.splits`` says how, in one of two ways:

- ``by: date`` for tables with a date column. Each split under ``dates`` is a list of dates
  (snapshot tables) or an inclusive range ``{start, end}`` (tables with daily dates); or
  ``cuts`` gives the first date of validation, calibration, test and scoring, and each split
  runs up to the next cut. The splits must follow each other in time with no shared date, and
  each labelled split's label window ``[S, S + label_horizon_days)`` must close on or before
  the next split's first date: otherwise training labels see the period the model is tuned,
  calibrated or tested on.
- ``by: id_hash`` for tables without dates (credit default, lead scoring): labelled rows go
  to a split by a seeded hash of their id, in the given ``fractions``; rows with an empty
  target are the scoring set.

Rows that land in no split are counted and logged; more than ``max_unassigned_share`` of
the table is an error, so a date list that misses most of a daily table cannot go unnoticed.
"""

import itertools
import logging
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from ga4_mlops.checks import require_columns
from ga4_mlops.problem_types import MULTICLASS, REGRESSION, class_labels, problem_type

logger = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "validation", "calibration", "test", "scoring")
LABELLED_SPLITS = SPLIT_NAMES[:-1]
PARAMS = "params model_input.splits"
DATASET = "model_input_table"


def normalise_splits(splits: dict[str, Any]) -> dict[str, Any]:
    """The full form of a splits parameter; a bare ``{split: [dates]}`` means ``by: date``."""
    splits = dict(splits)
    if "by" not in splits and set(splits) <= set(SPLIT_NAMES):
        splits = {"by": "date", "dates": splits}
    mixed = sorted(set(splits) & set(SPLIT_NAMES))
    if mixed:
        raise ValueError(
            f"{PARAMS} mixes split names {mixed} with 'by': put them under 'dates' (an "
            "environment's splits merge into conf/base's key by key)"
        )
    method = splits.get("by")
    if method not in ("date", "id_hash"):
        raise ValueError(f"{PARAMS}.by must be 'date' or 'id_hash', got {method!r}")
    rules = splits.get("dates") or {}
    unknown = set(rules) - set(SPLIT_NAMES)
    unknown |= set(splits.get("cuts") or {}) - set(SPLIT_NAMES[1:])
    unknown |= set(splits.get("fractions") or {}) - set(LABELLED_SPLITS)
    if unknown:
        raise ValueError(f"{PARAMS} has unknown split(s) {sorted(unknown)}")
    if method == "date" and bool(rules) == bool(splits.get("cuts")):
        raise ValueError(
            f"{PARAMS} with by: date needs either 'dates' or 'cuts', not both nor neither (an "
            "environment that gives cuts sets dates: null, since it merges into conf/base)"
        )
    return {"label_horizon_days": 0, "max_unassigned_share": 0.0, **splits}


def _day(value: Any, where: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(str(value)).normalize()
    except ValueError as error:
        raise ValueError(f"{PARAMS}.{where} must be a 'YYYY-MM-DD' date, got {value!r}") from error


def _iso(day: pd.Timestamp) -> str:
    return str(day.date())


def date_intervals(splits: dict[str, Any]) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Each split as half-open day intervals ``[first, after_last)``; overlaps are errors."""
    one_day = pd.Timedelta(days=1)
    intervals: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    if splits.get("cuts"):
        cuts = {name: _day(day, f"cuts.{name}") for name, day in splits["cuts"].items()}
        missing = [name for name in SPLIT_NAMES[1:] if name not in cuts]
        if missing:
            raise ValueError(f"{PARAMS}.cuts lacks the first date of split(s) {missing}")
        bounds = [pd.Timestamp("1700-01-01"), *cuts.values(), pd.Timestamp("2200-01-01")]
        for name, first, after in zip(SPLIT_NAMES, bounds, bounds[1:], strict=False):
            if after <= first and name != "train":
                raise ValueError(
                    f"{PARAMS}.cuts are not in time order: split '{name}' starts on "
                    f"{_iso(first)} but the next split starts on {_iso(after)}; expected "
                    "validation < calibration < test < scoring"
                )
            intervals[name] = [(first, after)]
        return intervals
    for name, rule in splits["dates"].items():
        if isinstance(rule, dict):
            first, last = _day(rule["start"], f"{name}.start"), _day(rule["end"], f"{name}.end")
            if last < first:
                raise ValueError(
                    f"{PARAMS}.dates.{name} ends ({_iso(last)}) before it starts ({_iso(first)})"
                )
            intervals[name] = [(first, last + one_day)]
        else:
            days = sorted({_day(day, f"dates.{name}") for day in rule or []})
            intervals[name] = [(day, day + one_day) for day in days]
    owners: list[tuple[pd.Timestamp, pd.Timestamp, str]] = sorted(
        (first, after, name) for name, spans in intervals.items() for first, after in spans
    )
    for (_, after, name), (next_first, _, next_name) in itertools.pairwise(owners):
        if next_first < after:
            raise ValueError(
                f"{PARAMS}: date {_iso(next_first)} is in two splits, '{name}' and "
                f"'{next_name}'; a date belongs to one split only"
            )
    return intervals


def assign_by_date(dates: pd.Series, splits: dict[str, Any]) -> pd.Series:
    """The split of each row (``None`` for rows in no split), from its normalised date."""
    assigned = pd.Series(None, index=dates.index, dtype="object")
    for name, spans in date_intervals(splits).items():
        for first, after in spans:
            assigned[(dates >= first) & (dates < after)] = name
    return assigned


def assign_by_id_hash(
    table: pd.DataFrame, id_columns: list[str], target: str, splits: dict[str, Any]
) -> pd.Series:
    """Labelled rows by a seeded hash of their id (stable under row order); unlabelled: scoring."""
    fractions = {name: float(splits["fractions"].get(name, 0)) for name in LABELLED_SPLITS}
    if any(share <= 0 for share in fractions.values()) or not np.isclose(
        sum(fractions.values()), 1.0
    ):
        raise ValueError(
            f"{PARAMS}.fractions must give every labelled split {list(LABELLED_SPLITS)} a "
            f"share > 0, summing to 1; got {splits['fractions']}"
        )
    key = f"{int(splits.get('seed', 0)):016d}"[-16:]
    hashed = pd.util.hash_pandas_object(table[id_columns], index=False, hash_key=key)
    position = hashed.to_numpy(dtype="uint64") / float(2**64)
    cut_points = np.cumsum(list(fractions.values()))[:-1]
    names = np.asarray(LABELLED_SPLITS, dtype="object")[np.searchsorted(cut_points, position)]
    assigned = pd.Series(names, index=table.index, dtype="object")
    assigned[table[target].isna()] = "scoring"
    return assigned


def check_time_order(
    dates: pd.Series, assigned: pd.Series, horizon_days: int, date_column: str
) -> None:
    """train < validation < calibration < test < scoring, with closed label windows between."""
    spans = {
        name: (dates[assigned == name].min(), dates[assigned == name].max())
        for name in SPLIT_NAMES
        if (assigned == name).any()
    }
    present = [name for name in SPLIT_NAMES if name in spans]
    for name, next_name in itertools.pairwise(present):
        last, next_first = spans[name][1], spans[next_name][0]
        if last >= next_first:
            raise ValueError(
                f"{DATASET} splits are not in time order: split '{name}' has {date_column} up "
                f"to {_iso(last)}, not before {_iso(next_first)}, the first date of split "
                f"'{next_name}'; expected train < validation < calibration < test < scoring "
                f"({PARAMS})"
            )
        window_end = last + timedelta(days=horizon_days)
        if name != "scoring" and window_end > next_first:
            raise ValueError(
                f"{DATASET} split '{name}': the label window [{_iso(last)}, {_iso(window_end)}) "
                f"of its last date {_iso(last)} (label_horizon_days={horizon_days}) runs past "
                f"{_iso(next_first)}, the first date of split '{next_name}', so its labels see "
                f"the '{next_name}' period. Leave at least {horizon_days} days between the "
                "splits (a gap date) or shorten the horizon"
            )


def _check_unassigned(
    assigned: pd.Series, dates: pd.Series | None, max_share: float, method: str
) -> None:
    unassigned = assigned.isna()
    count = int(unassigned.sum())
    if not count:
        return
    share = count / len(assigned)
    where = ""
    if dates is not None:
        days = sorted({_iso(day) for day in dates[unassigned].unique()})
        where = f" (dates {days[:5]}{' ...' if len(days) > 5 else ''}, {len(days)} in all)"
    logger.warning("%s: %d of %d rows fall in no split%s", DATASET, count, len(assigned), where)
    if share > max_share:
        raise ValueError(
            f"{DATASET}: {count} of {len(assigned)} rows ({share:.1%}) fall in no split of "
            f"{PARAMS} (by: {method}){where}; at most max_unassigned_share={max_share} may be "
            "left out. Give the splits date ranges (start/end) or cut dates, or raise "
            "max_unassigned_share"
        )


def _labelled(
    part: pd.DataFrame, split_name: str, target: str, kind: str, columns: dict[str, Any]
) -> pd.DataFrame:
    """The split with its target checked: 0/1 as int64 (binary), amounts >= 0 (regression)
    or labels of ``columns.classes`` (multiclass)."""
    labels = part[target]
    if labels.isna().any():
        raise ValueError(
            f"{DATASET} column '{target}' is missing for {labels.isna().sum()} rows of split "
            f"'{split_name}': a labelled split needs its full horizon inside the data"
        )
    if kind == MULTICLASS:
        known = class_labels(columns)
        unknown = sorted(set(labels.astype(str).unique()) - set(known))
        if unknown:
            raise ValueError(
                f"{DATASET} column '{target}' holds {unknown[:5]} in split '{split_name}', "
                f"not in params model_input.columns.classes {known}"
            )
        return part.assign(**{target: labels.astype(str)})
    if kind == REGRESSION:
        amounts = pd.to_numeric(labels, errors="coerce").astype("float64")
        bad = ~np.isfinite(amounts) | (amounts < 0)
        if bad.any():
            raise ValueError(
                f"{DATASET} column '{target}' must hold amounts >= 0 in split '{split_name}' "
                f"(problem_type regression), found {sorted(labels[bad].unique())[:5]}"
            )
        return part.assign(**{target: amounts})
    if not set(labels.unique()) <= {0, 1}:
        raise ValueError(
            f"{DATASET} column '{target}' must hold 0/1 in split '{split_name}', found "
            f"{sorted(labels.unique())[:5]}"
        )
    return part.assign(**{target: labels.astype("int64")})


def _target_summary(labels: pd.Series, kind: str) -> str:
    """What a labelled split's log line says of its target."""
    if kind == MULTICLASS:
        shares = labels.value_counts(normalize=True).head(3)
        return "largest classes " + ", ".join(f"{c} {s:.3f}" for c, s in shares.items())
    what = "mean target" if kind == REGRESSION else "positive rate"
    return f"{what} {labels.mean():.4f}"


def split_model_input(
    model_input_table: pd.DataFrame, columns: dict[str, Any], splits: dict[str, Any]
) -> tuple[pd.DataFrame, ...]:
    """Train, validation, calibration, test and scoring sets, after every check above.

    Splitting by time (never by row) when the table has dates is what keeps the evaluation
    honest: the model is tested on a later period than it learned from, as it will be used.
    """
    splits = normalise_splits(splits)
    method, target, kind = splits["by"], columns["target"], problem_type(columns)
    date_column = columns.get("date") if method == "date" else None
    feature_columns = [*columns["numeric"], *columns["categorical"]]
    targets = [target, *(columns.get("other_targets") or [])]
    leaking = [column for column in targets if column in feature_columns]
    if leaking:
        raise ValueError(
            f"params model_input.columns lists target column(s) {leaking} among the features "
            "(numeric / categorical): a target is never model input"
        )
    # Other targets (e.g. GA4's revenue_usd_horizon) ride along when the table has them; they
    # are not required: an environment for another table inherits conf/base's list.
    required = [*columns["id"], *([date_column] if date_column else []), target, *feature_columns]
    require_columns(
        model_input_table, required, DATASET, hint=" declared in params model_input.columns"
    )
    if method == "date":
        if not date_column:
            raise ValueError(
                f"{PARAMS}.by is 'date' but params model_input.columns names no 'date' column; "
                "use by: id_hash for a table without dates"
            )
        dates = pd.to_datetime(model_input_table[date_column]).dt.normalize()
        assigned = assign_by_date(dates, splits)
    else:
        dates = None
        assigned = assign_by_id_hash(model_input_table, list(columns["id"]), target, splits)
    parts = []
    for split_name in SPLIT_NAMES:
        part = model_input_table.loc[assigned == split_name].reset_index(drop=True)
        if part.empty:
            rule = (splits.get("dates") or splits.get("cuts") or splits.get("fractions") or {}).get(
                split_name, "empty target rows" if split_name == "scoring" else None
            )
            if isinstance(rule, list):
                rule = [_iso(_day(day, split_name)) for day in rule]
            known = (
                f"; it has dates {sorted({_iso(day) for day in dates.unique()})}"
                if dates is not None
                else ""
            )
            by = f"with {date_column} " if date_column else "by id hash "
            raise ValueError(f"{DATASET} has no rows {by}in split '{split_name}' ({rule}){known}")
        if split_name != "scoring":
            part = _labelled(part, split_name, target, kind, columns)
        parts.append(part)
    _check_unassigned(assigned, dates, float(splits["max_unassigned_share"]), method)
    if dates is not None:
        check_time_order(dates, assigned, int(splits["label_horizon_days"]), date_column)
    for split_name, part in zip(SPLIT_NAMES, parts, strict=True):
        summary = "n/a" if split_name == "scoring" else _target_summary(part[target], kind)
        logger.info("split %s: %d rows, %s", split_name, len(part), summary)
    if parts[0][target].nunique() < 2:
        raise ValueError(
            f"{DATASET} column '{target}' has a single class in split 'train': the target "
            "event never (or always) occurs; check feature_query.target_event"
        )
    return tuple(parts)

"""Snapshot (as-of) dates of every split from one anchor date: config resolvers.

Retraining next month moves one value, the anchor (the last labelled as-of date, the test
split's), on the command line (``--params anchor_date=YYYY-MM-DD``) or as a Vertex AI run-time
parameter. From it and a cadence, the dates run backwards: ``counts`` dates per split, and
between two splits a step of at least ``horizon_days`` so that no label window
``[S, S + horizon_days)`` reaches into the next split. The scoring date is the anchor plus that
step; the query reads from the first date's lookback to the day before the scoring date.
An explicit ``dates`` mapping replaces the derivation.
"""

import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

LABELLED_SPLITS = ("train", "validation", "calibration", "test")
WHERE = "globals snapshots"


def _day(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise ValueError(f"{WHERE}: {name} must be a 'YYYY-MM-DD' date, got {value!r}") from error


def snapshot_splits(
    snapshots: Mapping[str, Any], horizon_days: int, anchor_date: Any = None
) -> dict[str, list[str]]:
    """``{split: [YYYY-MM-DD, ...]}`` for train, validation, calibration, test and scoring."""
    explicit = snapshots.get("dates")
    if explicit:
        if anchor_date is not None:
            raise ValueError(
                f"{WHERE} lists explicit dates, so anchor_date={anchor_date} cannot move them: "
                "remove snapshots.dates to derive the dates from the anchor"
            )
        return {
            name: [str(_day(day, f"dates.{name}")) for day in days]
            for name, days in explicit.items()
        }
    if anchor_date is None:
        anchor_date = snapshots["anchor_date"]
    anchor = _day(anchor_date, "anchor_date")
    cadence, counts = int(snapshots["cadence_days"]), dict(snapshots["counts"])
    missing = [name for name in LABELLED_SPLITS if int(counts.get(name, 0)) < 1]
    if cadence < 1 or missing:
        raise ValueError(
            f"{WHERE} needs cadence_days >= 1 and counts >= 1 for {list(LABELLED_SPLITS)}; got "
            f"cadence_days={cadence}, counts={counts}"
        )
    step = timedelta(days=cadence * math.ceil(int(horizon_days) / cadence))
    splits: dict[str, list[str]] = {}
    last = anchor
    for name in reversed(LABELLED_SPLITS):
        count = int(counts[name])
        days = [last - timedelta(days=cadence * (count - 1 - i)) for i in range(count)]
        splits[name] = [str(day) for day in days]
        last = days[0] - step
    return {
        **{name: splits[name] for name in LABELLED_SPLITS},
        "scoring": [str(anchor + step)],
    }


def anchored_feature_query(
    feature_query: Mapping[str, Any], snapshots: Mapping[str, Any], anchor_date: Any = None
) -> dict[str, Any]:
    """The feature query's parameters with the snapshot dates and the date window derived."""
    splits = snapshot_splits(snapshots, feature_query["horizon_days"], anchor_date)
    dates = sorted(_day(day, "dates") for days in splits.values() for day in days)
    lookback = timedelta(days=int(feature_query["lookback_days"]))
    return {
        **dict(feature_query),
        "start_date": str(dates[0] - lookback),
        "end_date": str(dates[-1] - timedelta(days=1)),
        "snapshot_dates": [str(day) for day in dates],
    }


def snapshot_window(
    name: str, snapshots: Mapping[str, Any], lookback_days: int, horizon_days: int
) -> Any:
    """One derived value (``start_date``, ``end_date`` or ``snapshot_dates``) for globals.yml,
    which cannot read run-time parameters: the default anchor's dates."""
    query = {"lookback_days": lookback_days, "horizon_days": horizon_days}
    return anchored_feature_query(query, snapshots)[name]

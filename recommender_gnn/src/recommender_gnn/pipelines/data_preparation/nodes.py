"""OTTO events -> one canonical interactions table with contiguous ids, then the splits.

Raw files are trusted for nothing: the reader (``OttoJsonlDataset``) rejects malformed lines,
unknown event types and bad fields with the file, line and field; here the tolerable problems
are repaired and counted in the log (events out of time order, a session split over several
lines, sessions too short to evaluate, test items never seen in training) and the fatal ones
(a session in both files, empty input) stop the run with the dataset and field named.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns
from recommender_gnn.model_selection.tuning import sampled_sessions

from .splits import truncate_sessions

logger = logging.getLogger(__name__)
DAY = 86_400
RAW_COLUMNS = ["session", "aid", "ts", "type"]
SESSION_COLUMNS = ["session", "item", "ts", "type"]
LABEL_COLUMNS = ["session", "event_type", "item"]


def clean_events(events: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Events sorted by session and time; repairs are counted in the log."""
    require_columns(events, RAW_COLUMNS, dataset)
    if events.empty:
        raise ValueError(f"{dataset} has no events: expected at least one session with events")
    unknown = ~events["type"].isin([0, 1, 2])
    if unknown.any():
        raise ValueError(
            f"{dataset} column 'type' holds "
            f"{sorted(events['type'][unknown].unique().tolist())[:5]}: "
            "expected 0 (clicks), 1 (carts) or 2 (orders)"
        )
    same_session = events["session"].to_numpy()[1:] == events["session"].to_numpy()[:-1]
    backwards = same_session & (np.diff(events["ts"].to_numpy()) < 0)
    if backwards.any():
        logger.warning(
            "%s: %d events in %d sessions are out of time order: sorted by ts",
            dataset,
            int(backwards.sum()),
            events["session"].iloc[1:][backwards].nunique(),
        )
    starts = np.flatnonzero(np.r_[True, ~same_session])
    split_sessions = len(starts) - events["session"].nunique()
    if split_sessions:
        logger.warning("%s: %d sessions appear on several lines: merged", dataset, split_sessions)
    one_event = int((events["session"].value_counts() == 1).sum())
    if one_event:
        logger.info("%s: %d one-event sessions (no transition to learn from)", dataset, one_event)
    if (np.diff(events["session"].to_numpy()) >= 0).all() and not backwards.any():
        return events.reset_index(drop=True)  # already in order: no 216 M-row copy
    return events.sort_values(["session", "ts"], kind="stable").reset_index(drop=True)


class _Lookup:
    """Original ids -> contiguous int32 ids by binary search: at OTTO's size (216 M events) a
    pandas index lookup holds a hash table and int64 copies several GB larger."""

    def __init__(self, originals: np.ndarray) -> None:
        self.order = np.argsort(originals, kind="stable")
        self.sorted = np.asarray(originals)[self.order]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        position = np.searchsorted(self.sorted, values)
        return self.order[position].astype(np.int32)


def build_interactions(
    train_events: pd.DataFrame, test_events: pd.DataFrame, test_labels: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(interactions, item_map, session_map, test_sessions, test_labels) with contiguous ids.

    Items: training items first, then items only in the test prefixes, then items only in the
    test labels (kept so that recall counts them as misses instead of forgetting them).
    """
    require_columns(test_labels, ["session", "event_type", "aid"], "otto_test_labels")
    overlap = np.intersect1d(train_events["session"].unique(), test_events["session"].unique())
    if overlap.size:
        raise ValueError(
            f"otto_train and otto_test share {overlap.size} session id(s) in field 'session' "
            f"(e.g. {overlap[:3].tolist()}): expected disjoint sessions"
        )
    train_aids = np.unique(train_events["aid"])
    test_only = np.setdiff1d(np.unique(test_events["aid"]), train_aids)
    label_only = np.setdiff1d(np.unique(test_labels["aid"]), np.r_[train_aids, test_only])
    if test_only.size:
        logger.warning(
            "otto_test: %d items never occur in training (%.1f%% of test events): they get ids "
            "but no learned signal",
            test_only.size,
            100 * test_events["aid"].isin(test_only).mean(),
        )
    if label_only.size:
        logger.warning("otto_test_labels: %d label items occur in no session", label_only.size)
    aids = np.concatenate([train_aids, test_only, label_only])
    item_map = pd.DataFrame(
        {
            "item": np.arange(len(aids), dtype=np.int32),
            "aid": aids.astype(np.int64),
            "seen_in_train": np.arange(len(aids)) < len(train_aids),
        }
    )
    original = np.concatenate(
        [np.unique(train_events["session"]), np.unique(test_events["session"])]
    )
    n_train = train_events["session"].nunique()
    session_map = pd.DataFrame(
        {
            "session": np.arange(len(original), dtype=np.int32),
            "original_session": original.astype(np.int64),
            "source": np.where(np.arange(len(original)) < n_train, "train", "test"),
        }
    )
    item_of = _Lookup(aids)
    session_of = _Lookup(original)

    def canonical(events: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "session": session_of(events["session"].to_numpy()),
                "item": item_of(events["aid"].to_numpy()),
                "ts": events["ts"].to_numpy(),
                "type": events["type"].to_numpy(dtype=np.int8),
            }
        )

    test_sessions = canonical(test_events)
    train_canonical = canonical(train_events)
    interactions = pd.DataFrame(
        {
            name: np.concatenate(
                [train_canonical[name].to_numpy(), test_sessions[name].to_numpy()],
                dtype=np.result_type(train_canonical[name], test_sessions[name]),
            )
            for name in SESSION_COLUMNS
        },
        copy=False,
    )
    del train_canonical
    unknown_sessions = ~test_labels["session"].isin(test_events["session"].unique())
    if unknown_sessions.any():
        raise ValueError(
            f"otto_test_labels field 'session' has {int(unknown_sessions.sum())} label(s) of "
            f"sessions not in otto_test (e.g. {test_labels['session'][unknown_sessions].iloc[0]})"
        )
    labels = pd.DataFrame(
        {
            "session": session_of(test_labels["session"].to_numpy()),
            "event_type": test_labels["event_type"].astype(str).to_numpy(),
            "item": item_of(test_labels["aid"].to_numpy()),
        }
    )
    return interactions, item_map, session_map, test_sessions, labels


def refit_sessions(
    interactions: pd.DataFrame,
    session_map: pd.DataFrame,
    train_sessions: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Every event of the training file (training + validation weeks): what the final models
    are refit on before they predict the test week, so none is a week stale. With
    ``refit: false`` the training sessions alone (measures what the refit brings)."""
    if not params.get("refit", True):
        return train_sessions
    return _training_file(interactions, session_map).reset_index(drop=True)


def _training_file(interactions: pd.DataFrame, session_map: pd.DataFrame) -> pd.DataFrame:
    """The events of train.jsonl's sessions: build_interactions numbers them first and writes
    them first, so they are the rows before the first test session (a slice, not a copy)."""
    n_train = int((session_map["source"] == "train").sum())
    session = interactions["session"].to_numpy()
    end = int(np.searchsorted(session, n_train)) if session.size else 0
    if (session[:end] >= n_train).any() or (session[end:] < n_train).any():
        raise ValueError(
            "interactions: expected the training file's sessions (ids below "
            f"{n_train}) first, in order, as build_interactions writes them"
        )
    return interactions.iloc[:end]


def _sample_sessions(events: pd.DataFrame, n_sessions: int | None, seed: int) -> pd.DataFrame:
    """The events of ``n_sessions`` sessions drawn without replacement (all when fewer)."""
    # its own stream: the truncation points of an unsampled split stay what they were
    chosen = sampled_sessions(events, n_sessions, np.random.default_rng([seed, 1]))
    return events if chosen is None else events[events["session"].isin(chosen)]


def split_validation(
    interactions: pd.DataFrame, session_map: pd.DataFrame, params: dict[str, Any], seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(train_sessions, valid_sessions, valid_labels): the last ``valid_days`` of the training
    file become a validation split built like OTTO's test (truncated sessions + labels).

    ``max_valid_sessions`` (null: all) keeps a seeded sample of the validation week's sessions:
    at OTTO's size 1.8 M of them cost every model a full scoring pass for an interval a tenth
    as wide as a 200 k sample's needs. The rest stay out of training as before.
    """
    valid_days = params["valid_days"]
    events = _training_file(interactions, session_map)
    session, ts = events["session"].to_numpy(), events["ts"].to_numpy()
    cutoff = int(ts.max() - valid_days * DAY)
    # Events are sorted by session then time (clean_events), so a session starts at its
    # first row: run lengths instead of a groupby over every event.
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    start = np.repeat(ts[starts], np.diff(np.append(starts, session.size)))
    if start.min() >= cutoff:
        raise ValueError(
            f"data_preparation.valid_days={valid_days} leaves no training sessions: the "
            f"training file spans {(ts.max() - ts.min()) / DAY:.1f} days"
        )
    train = events[(start < cutoff) & (ts < cutoff)]
    valid = events[start >= cutoff]
    del start
    sizes = valid.groupby("session")["session"].transform("size")
    short = valid.loc[sizes < 2, "session"].nunique()
    if short:
        logger.info(
            "validation: %d one-event sessions cannot be truncated and are left out (as in "
            "OTTO's evaluation script)",
            short,
        )
    valid = _sample_sessions(valid[sizes >= 2], params.get("max_valid_sessions"), seed)
    prefix, labels = truncate_sessions(valid, np.random.default_rng(seed))
    logger.info(
        "split: %d training sessions, %d validation sessions (last %s days)",
        int(np.count_nonzero(np.diff(train["session"].to_numpy()))) + 1 if len(train) else 0,
        prefix["session"].nunique(),
        valid_days,
    )
    return train.reset_index(drop=True), prefix[SESSION_COLUMNS], labels[LABEL_COLUMNS]

"""What every baseline shares: sessions in chunks, a session's history as a sparse row, and
the top new items of sparse score rows in the candidates contract.

Candidates: ``session`` int32, ``event_type`` categorical ['clicks', 'carts', 'orders'],
``item`` int32, ``rank`` int16 (1..top_k), ``score`` float32; sorted by session, event_type,
rank; only items the session has no event on (the shared seen-item policy adds those). Scores
are sparse rows (sessions x items, only the items a session reached), never a dense matrix over
the catalogue.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender_gnn.checks import require_columns
from recommender_gnn.sorting import lexsort

EVENT_TYPES = ["clicks", "carts", "orders"]
CANDIDATE_COLUMNS = ["session", "event_type", "item", "rank", "score"]
DAY = 86_400


class Chunk:
    """The events of consecutive sessions, sorted by session and time, as NumPy arrays.

    ``row`` is the session's index in ``ids``; ``steps_back`` is 0 for a session's last event.
    """

    def __init__(self, session: np.ndarray, item: np.ndarray, type_: np.ndarray) -> None:
        starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if len(session) else []
        starts = np.asarray(starts, dtype=np.int64)
        lengths = np.diff(np.append(starts, len(session)))
        self.ids = session[starts]
        self.row = np.repeat(np.arange(len(starts)), lengths)
        self.steps_back = np.repeat(starts + lengths, lengths) - 1 - np.arange(len(session))
        self.item = item
        self.type = type_

    @property
    def n_sessions(self) -> int:
        return len(self.ids)

    def matrix(self, values: np.ndarray, keep: np.ndarray, n_items: int) -> sp.csr_matrix:
        """(sessions x items) sums of ``values`` over the events where ``keep``, items below
        ``n_items`` (items the fit never saw have no neighbours)."""
        keep = keep & (self.item < n_items)
        return sp.csr_matrix(
            (values[keep].astype(np.float64), (self.row[keep], self.item[keep])),
            shape=(self.n_sessions, n_items),
        )

    def seen(self, n_items: int) -> sp.csr_matrix:
        """1 where the session has an event on the item (items below ``n_items``)."""
        seen = self.matrix(np.ones(len(self.item)), np.ones(len(self.item), bool), n_items)
        seen.data[:] = 1.0
        return seen


def session_chunks(sessions: pd.DataFrame, size: int, dataset: str = "sessions") -> Iterator[Chunk]:
    """``size`` sessions at a time: a candidate list's memory is bounded by a chunk."""
    require_columns(sessions, ["session", "item", "ts", "type"], dataset)
    if int(size) < 1:
        raise ValueError(f"sessions_per_chunk must be at least 1, got {size}")
    session = sessions["session"].to_numpy()
    ts = sessions["ts"].to_numpy()
    if len(session) > 1 and not (
        np.all(session[1:] >= session[:-1])
        and np.all((session[1:] != session[:-1]) | (ts[1:] >= ts[:-1]))
    ):
        order = lexsort((ts, session))
        sessions = sessions.iloc[order]
        session = session[order]
    item = sessions["item"].to_numpy(dtype=np.int64)
    type_ = sessions["type"].to_numpy(dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if len(session) else []
    bounds = np.append(np.asarray(starts, dtype=np.int64)[:: int(size)], len(session))
    for begin, end in itertools.pairwise(bounds):
        yield Chunk(session[begin:end], item[begin:end], type_[begin:end])


def recency_weights(chunk: Chunk, decay: float, type_weights, history_events: int) -> np.ndarray:
    """Vote of each event: ``type_weight * decay ** steps_back`` within the last
    ``history_events`` events of its session, 0 before."""
    weights = np.asarray(type_weights, dtype=np.float64)[chunk.type] * float(decay) ** (
        chunk.steps_back.astype(np.float64)
    )
    return np.where(chunk.steps_back < int(history_events), weights, 0.0)


def neighbour_matrix(
    item: np.ndarray, neighbour: np.ndarray, weight: np.ndarray, n_items: int, power: float
) -> sp.csr_matrix:
    """(items x items) votes ``(weight / the item's largest weight) ** power``: power 0 counts
    each neighbour once (as the public OTTO notebooks do), 1 follows the weights."""
    item = np.asarray(item, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    largest = np.zeros(n_items)
    np.maximum.at(largest, item, weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(largest[item] > 0, weight / largest[item], 0.0)
    votes = relative ** float(power)
    return sp.csr_matrix(
        (votes, (item, np.asarray(neighbour, dtype=np.int64))), shape=(n_items, n_items)
    )


def top_new_items(
    scores: sp.csr_matrix, seen: sp.csr_matrix, top_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, item, rank, score) of each row's ``top_k`` best positive scores on unseen items;
    ties go to the smaller item id.

    Only each row's best ``top_k`` + (its number of seen items) entries can qualify, so those
    are found first (``best_per_row``) and only they are sorted: a full sort of every score is
    what took the time.
    """
    scores = sp.csr_matrix(scores)
    n_rows, n_items = scores.shape
    row = np.repeat(np.arange(n_rows), np.diff(scores.indptr))
    item, value = scores.indices, scores.data
    if not (value > 0).all():  # copies only when some score is not positive
        positive = value > 0
        row, item, value = row[positive], item[positive], value[positive]
    keep = best_per_row(row, value, n_rows, int(top_k) + np.diff(seen.indptr))
    row, item, value = row[keep], item[keep], value[keep]
    seen = sp.csr_matrix(seen)
    seen_keys = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(seen.indptr)) * n_items
    new = ~np.isin(row.astype(np.int64) * n_items + item, seen_keys + seen.indices)
    row, item, value = row[new], item[new], value[new]
    order = lexsort((item, -value, row))
    row, item, value = row[order], item[order], value[order]
    first = np.searchsorted(row, np.arange(n_rows))
    rank = np.arange(len(row)) - first[row] + 1
    kept = rank <= int(top_k)
    return row[kept], item[kept], rank[kept], value[kept]


def best_per_row(
    row: np.ndarray, value: np.ndarray, n_rows: int, count: np.ndarray | int, buckets: int = 64
) -> np.ndarray:
    """A mask holding every row's ``count`` largest positive values (and some more): entries
    are bucketed by quarter octaves below their row's largest, read from the float's bits
    (for positive doubles the bit pattern orders like the value), and a row keeps its buckets
    down to the first that reaches ``count`` entries. Exact: every dropped value is strictly
    below ``count`` kept ones. ``row`` must be non-decreasing."""
    if len(value) == 0:
        return np.zeros(0, dtype=bool)
    level = np.ascontiguousarray(value, dtype=np.float64).view(np.int64) >> 50
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    top = np.zeros(n_rows, dtype=np.int64)
    top[row[starts]] = np.maximum.reduceat(level, starts)
    bucket = np.minimum(top[row] - level, buckets - 1)
    counts = np.bincount(row * buckets + bucket, minlength=n_rows * buckets)
    reached = counts.reshape(n_rows, buckets).cumsum(axis=1) >= np.reshape(count, (-1, 1))
    cutoff = np.where(reached.any(axis=1), reached.argmax(axis=1), buckets - 1)
    return bucket <= cutoff[row]


def candidate_frame(
    chunk: Chunk, lists: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
) -> pd.DataFrame:
    """The contract's table from ``{event type: top_new_items(...)}`` of one chunk."""
    frames = []
    for code, event_type in enumerate(EVENT_TYPES):
        row, item, rank, score = lists[event_type]
        frames.append((chunk.ids[row], np.full(len(row), code, np.int8), item, rank, score))
    session, code, item, rank, score = (
        np.concatenate(parts) for parts in zip(*frames, strict=True)
    )
    order = lexsort((rank, code, session))
    return pd.DataFrame(
        {
            "session": session[order].astype(np.int32),
            "event_type": pd.Categorical.from_codes(code[order], categories=EVENT_TYPES),
            "item": item[order].astype(np.int32),
            "rank": rank[order].astype(np.int16),
            "score": score[order].astype(np.float32),
        }
    )


def concat_candidates(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunks in session order, with the contract's dtypes even when there is no row."""
    if not frames:
        return pd.DataFrame(
            {
                "session": np.array([], np.int32),
                "event_type": pd.Categorical([], categories=EVENT_TYPES),
                "item": np.array([], np.int32),
                "rank": np.array([], np.int16),
                "score": np.array([], np.float32),
            }
        )
    return pd.concat(frames, ignore_index=True)


def fit_items(fit_sessions: pd.DataFrame) -> pd.DataFrame:
    """The items of the fit sessions and their event counts (item int32, events int64).

    The SQL fits read the sessions file by path, which Kedro cannot see: taking this small
    table as an input runs them after data_preparation, and lets them check that their counts
    are of that file, without loading every event again (216 M rows at OTTO's size).
    """
    require_columns(fit_sessions, ["item"], "fit_sessions")
    counts = np.bincount(fit_sessions["item"].to_numpy())
    present = np.flatnonzero(counts)
    return pd.DataFrame({"item": present.astype(np.int32), "events": counts[present]})


def known_items(items: pd.DataFrame) -> np.ndarray:
    """``known[item]``: whether the fit has an event on the item (``fit_items`` or sessions)."""
    require_columns(items, ["item"], "fit_items")
    fit_items = items["item"].to_numpy()
    known = np.zeros(int(fit_items.max()) + 1 if len(fit_items) else 0, dtype=bool)
    known[fit_items] = True
    return known


def require_known_items(items: np.ndarray, known: np.ndarray, dataset: str) -> None:
    """Reject SQL counts of items the fit sessions lack: the query read another table than the
    one data_preparation wrote (it reads the file by path, which Kedro cannot see)."""
    items = np.asarray(items, dtype=np.int64)
    inside = (items >= 0) & (items < len(known))
    stale = (
        ~inside | ~known[np.where(inside, items, 0)] if len(known) else np.ones(len(items), bool)
    )
    if stale.any():
        raise ValueError(
            f"{dataset} field 'item' holds {int(stale.sum())} rows of items that are not in "
            "the fit sessions: the query read another table than data_preparation wrote"
        )


def type_weights(params: dict[str, Any]) -> list[float]:
    """(click, cart, order) weights of the history votes; a click weighs 1."""
    return [1.0, float(params["cart_weight"]), float(params["order_weight"])]

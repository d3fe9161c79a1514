"""Session kNN with position decay (V-SKNN, Ludewig & Jannach 2018, "Evaluation of
session-based recommendation algorithms"): the sessions most like this one say what comes next.

For a session: among the ``sample_size`` most recent fit sessions that share an item with it,
similarity = sum over the shared items of the item's position weight in the session (its last
event counts most: ``weighting`` 'div' 1/(1+n), 'linear' 1-0.1n, 'exponential' decay**n, n
events back); the ``k`` most similar sessions vote their similarity for each of their items.

Sparse throughout (scipy, chunks of sessions): fit sessions are numbered by recency (0 = the
most recent), so "the most recent sessions sharing an item" are the smallest column indices of a
row of (session x item) @ (item x fit session). Each item keeps its ``max_postings`` most recent
sessions: exact for any ``sample_size`` up to it (a session among the union's m most recent is
among the m most recent of each of its items).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender_gnn.checks import require_columns
from recommender_gnn.forked import map_forked
from recommender_gnn.sorting import lexsort

from .candidates import (
    candidate_frame,
    concat_candidates,
    session_chunks,
    top_new_items,
)

WEIGHTINGS = ("div", "linear", "exponential")


def fit_sknn(fit_sessions: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """Index of the fit sessions: ``session_items`` (fit sessions by recency x items, 1 where
    the item is among the session's last ``max_session_events`` events) and ``item_sessions``
    (items x fit sessions: each item's ``max_postings`` most recent sessions). Pickled between
    the fit and recommend nodes.

    A fit session is its recent part: OTTO's sessions are a user's whole month, and the k
    neighbours' every item would make each candidate list thousands of entries long.
    """
    require_columns(fit_sessions, ["session", "item", "ts"], "fit_sessions")
    session = fit_sessions["session"].to_numpy()
    ts = fit_sessions["ts"].to_numpy()
    item = fit_sessions["item"].to_numpy()
    if len(session) > 1 and not (
        np.all(session[1:] >= session[:-1])
        and np.all((session[1:] != session[:-1]) | (ts[1:] >= ts[:-1]))
    ):
        order = lexsort((ts, session))
        session, ts, item = session[order], ts[order], item[order]
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if len(session) else []
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.append(starts[1:], len(session))
    by_recency = lexsort((session[starts], -ts[ends - 1]))  # newest first; ties: smaller id
    recency = np.empty(len(starts), dtype=np.int32)
    recency[by_recency] = np.arange(len(starts), dtype=np.int32)
    # The last max_session_events events of each session; int32 and in place: at OTTO's size
    # every array over the events is 216 M long.
    lengths = ends - starts
    kept = np.minimum(lengths, int(params["max_session_events"]))
    first_kept = np.repeat((ends - kept).astype(np.int32), lengths)
    first_kept -= np.arange(len(session), dtype=np.int32)
    recent_items = item[first_kept <= 0].astype(np.int32)
    del first_kept
    n_items = int(item.max()) + 1 if len(item) else 0
    session_items = sp.csr_matrix(
        (
            np.ones(len(recent_items), np.float32),
            (np.repeat(recency, kept), recent_items),
        ),
        shape=(len(starts), n_items),
    )
    del recent_items
    session_items.data[:] = 1.0  # duplicates summed: one per (session, item)
    item_sessions = session_items.T.tocsr()
    item_sessions.sort_indices()
    item_sessions = _first_per_row(item_sessions, int(params["max_postings"]))
    return {
        "session_items": session_items,
        "item_sessions": item_sessions,
        "max_postings": int(params["max_postings"]),
    }


def recommend_sknn(
    sessions: pd.DataFrame, index: dict[str, Any], params: dict[str, Any]
) -> pd.DataFrame:
    """Candidates (new items) from the ``k`` nearest fit sessions; the same list for every
    event type."""
    session_items, item_sessions = index["session_items"], index["item_sessions"]
    sample_size = int(params["sample_size"])
    if sample_size > index["max_postings"]:
        raise ValueError(
            f"sknn sample_size {sample_size} exceeds the index's max_postings "
            f"{index['max_postings']}: raise max_postings in the fit parameters"
        )
    if params["weighting"] not in WEIGHTINGS:
        raise ValueError(f"sknn weighting must be one of {WEIGHTINGS}: {params['weighting']!r}")
    postings = _first_per_row(item_sessions, sample_size)
    recommend = partial(_recommend_chunk, postings, session_items, params)
    chunks = session_chunks(sessions, int(params["sessions_per_chunk"]))
    return concat_candidates(map_forked(recommend, chunks, params.get("processes")))


def _recommend_chunk(postings, session_items, params: dict[str, Any], chunk) -> pd.DataFrame:
    n_items = session_items.shape[1]
    recent = chunk.steps_back < int(params["history_events"])
    # A repeated item weighs as its last event: the largest weight, not the sum.
    query = _max_per_entry(chunk, recent, params, n_items)
    similarity = _first_per_row((query @ postings).tocsr(), int(params["sample_size"]), sort=True)
    neighbours = _top_per_row(similarity, int(params["k"]))
    found = top_new_items(neighbours @ session_items, chunk.seen(n_items), int(params["top_k"]))
    return candidate_frame(chunk, dict.fromkeys(("clicks", "carts", "orders"), found))


def _position_weights(steps_back: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    n = steps_back.astype(np.float64)
    if params["weighting"] == "div":
        return 1.0 / (1.0 + n)
    if params["weighting"] == "linear":
        return np.maximum(1.0 - 0.1 * n, 0.0)
    return float(params["decay"]) ** n


def _max_per_entry(chunk, keep: np.ndarray, params: dict[str, Any], n_items: int) -> sp.csr_matrix:
    keep = keep & (chunk.item < n_items)
    weight = _position_weights(chunk.steps_back[keep], params)
    row, item = chunk.row[keep], chunk.item[keep]
    order = lexsort((-weight, item, row))
    row, item, weight = row[order], item[order], weight[order]
    first = np.r_[True, (row[1:] != row[:-1]) | (item[1:] != item[:-1])] if len(row) else []
    first = np.asarray(first, dtype=bool)
    query = sp.csr_matrix(
        (weight[first], (row[first], item[first])), shape=(chunk.n_sessions, n_items)
    )
    query.eliminate_zeros()
    return query


def _first_per_row(matrix: sp.csr_matrix, count: int, sort: bool = False) -> sp.csr_matrix:
    """The first ``count`` entries of each row (by column index: the most recent sessions)."""
    if sort:
        matrix.sort_indices()
    position = np.repeat(matrix.indptr[:-1].astype(np.int64), np.diff(matrix.indptr))
    np.subtract(np.arange(matrix.nnz), position, out=position)
    kept = position < count
    del position
    lengths = np.minimum(np.diff(matrix.indptr), count)
    return sp.csr_matrix(
        (matrix.data[kept], matrix.indices[kept], np.r_[0, np.cumsum(lengths)]),
        shape=matrix.shape,
    )


def _top_per_row(matrix: sp.csr_matrix, count: int) -> sp.csr_matrix:
    """Each row's ``count`` largest entries (ties: the smaller column, the more recent)."""
    row = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = lexsort((matrix.indices, -matrix.data, row))
    position = np.arange(matrix.nnz) - matrix.indptr[row[order]]
    kept = order[position < count]
    return sp.csr_matrix((matrix.data[kept], (row[kept], matrix.indices[kept])), shape=matrix.shape)

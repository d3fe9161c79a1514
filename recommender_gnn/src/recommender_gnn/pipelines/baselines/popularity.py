"""Trending popularity per event type: the floor every session model must clear, and the fill
of short candidate lists (the shared seen-item policy, the submission)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns

from .candidates import DAY, EVENT_TYPES, candidate_frame, concat_candidates, session_chunks


def fit_popularity(fit_sessions: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The ``list_length`` most frequent items of each event type over the last
    ``popularity_days`` of the fit sessions: (event_type, item, rank, score).

    Longer than ``top_k``: a session's own items are left out at recommendation time, and the
    rest must still fill its list. Types with fewer items (orders) borrow from all events.
    """
    require_columns(fit_sessions, ["item", "ts", "type"], "fit_sessions")
    length = int(params["list_length"])
    ts = fit_sessions["ts"].to_numpy()
    recent = ts >= ts.max() - float(params["popularity_days"]) * DAY if len(ts) else ts > 0
    items = fit_sessions["item"].to_numpy()[recent]
    types = fit_sessions["type"].to_numpy()[recent]
    every = pd.Series(items).value_counts()
    frames = []
    for code, event_type in enumerate(EVENT_TYPES):
        counts = pd.Series(items[types == code]).value_counts().astype(np.float64)
        if len(counts) < length:
            counts = counts.add(every * 1e-6, fill_value=0.0)
        counts = counts.rename_axis("item").reset_index(name="score")
        counts = counts.sort_values(["score", "item"], ascending=[False, True]).head(length)
        frames.append(
            pd.DataFrame(
                {
                    "event_type": pd.Categorical(
                        np.full(len(counts), event_type), categories=EVENT_TYPES
                    ),
                    "item": counts["item"].to_numpy(dtype=np.int32),
                    "rank": np.arange(1, len(counts) + 1, dtype=np.int16),
                    "score": counts["score"].to_numpy(dtype=np.float32),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def recommend_popularity(
    sessions: pd.DataFrame, popular_items: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """The trending items each session has no event on, ``top_k`` per event type.

    Only the (sessions x list_length) table of one chunk is built, never sessions x catalogue.
    """
    require_columns(popular_items, ["event_type", "item", "rank", "score"], "popular_items")
    top_k = int(params["top_k"])
    lists = {}
    for event_type in EVENT_TYPES:
        part = popular_items[popular_items["event_type"] == event_type].sort_values("rank")
        lists[event_type] = (part["item"].to_numpy(np.int64), part["score"].to_numpy(np.float64))
    n_items = 1 + max((int(items.max()) for items, _ in lists.values() if len(items)), default=0)
    # One process: a chunk's lists cost less to build than to send back from a forked worker
    # (OTTO's test week: 33 s here, 37 s in 2 processes).
    frames = []
    for chunk in session_chunks(sessions, int(params["sessions_per_chunk"])):
        found = {}
        for event_type, (items, scores) in lists.items():
            position = np.full(n_items, -1, dtype=np.int64)
            position[items] = np.arange(len(items))
            known = chunk.item < n_items
            where = np.where(known, position[np.where(known, chunk.item, 0)], -1)
            seen = np.zeros((chunk.n_sessions, len(items)), dtype=bool)
            seen[chunk.row[where >= 0], where[where >= 0]] = True
            rank = np.cumsum(~seen, axis=1)
            row, column = np.nonzero(~seen & (rank <= top_k))
            found[event_type] = (row, items[column], rank[row, column], scores[column])
        frames.append(candidate_frame(chunk, found))
    return concat_candidates(frames)

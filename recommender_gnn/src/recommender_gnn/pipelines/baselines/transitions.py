"""Item-to-item transitions (a first-order Markov chain with a few steps of look-ahead): what
usually comes *after* the session's last items. Directed, unlike co-visitation.

Counts come from ``sql/transition_counts.sql``; a session's events vote
``type_weight * decay ** steps_back`` for their items (the last item counts most), each item
passes its vote to its successors as ``(weight / its largest weight) ** neighbour_power``.
One list serves every event type.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns
from recommender_gnn.forked import map_forked

from .candidates import (
    candidate_frame,
    concat_candidates,
    known_items,
    neighbour_matrix,
    recency_weights,
    require_known_items,
    session_chunks,
    top_new_items,
    type_weights,
)

TRANSITION_COLUMNS = ["item", "successor", "weight", "rank"]


def fit_transitions(transitions: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The SQL result with int32 ids: (item, successor, weight, rank).

    ``items`` (``fit_items`` of the sessions the query read by path): as an input it orders
    this node after data_preparation and lets it check that the counts are of that file.
    """
    require_columns(transitions, TRANSITION_COLUMNS, "transition_counts")
    require_known_items(transitions["item"].to_numpy(), known_items(items), "transition_counts")
    return pd.DataFrame(
        {
            "item": transitions["item"].to_numpy(np.int32),
            "successor": transitions["successor"].to_numpy(np.int32),
            "weight": transitions["weight"].to_numpy(np.float32),
            "rank": transitions["rank"].to_numpy(np.int16),
        }
    )


def recommend_transitions(
    sessions: pd.DataFrame, successors: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Candidates (new items): the successors of the last item, plus decayed successors of
    the earlier ones; the same list for clicks, carts and orders."""
    require_columns(successors, TRANSITION_COLUMNS, "transitions_successors")
    n_items = 1 + int(max(successors["item"].max(), successors["successor"].max(), -1))
    matrix = neighbour_matrix(
        successors["item"].to_numpy(), successors["successor"].to_numpy(),
        successors["weight"].to_numpy(), n_items, float(params["neighbour_power"]),
    )  # fmt: skip
    weights = type_weights(params)
    events, top_k = int(params["history_events"]), int(params["top_k"])

    def recommend_chunk(chunk) -> pd.DataFrame:
        history = chunk.matrix(
            recency_weights(chunk, params["history_decay"], weights, events),
            np.ones(len(chunk.item), dtype=bool),
            n_items,
        )
        found = top_new_items(history @ matrix, chunk.seen(n_items), top_k)
        return candidate_frame(chunk, dict.fromkeys(("clicks", "carts", "orders"), found))

    chunks = session_chunks(sessions, int(params["sessions_per_chunk"]))
    return concat_candidates(map_forked(recommend_chunk, chunks, params.get("processes")))

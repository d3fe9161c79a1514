"""Co-visitation as the public OTTO candidate-rerank notebooks do it (three SQL matrices, one
list per event type), new items only.

- clicks: the clicks matrix's neighbours of the session's recent items (time-weighted pairs);
- carts and orders: the carts-orders matrix's neighbours of the recent items plus
  ``buy2buy_weight`` x the buy2buy neighbours of the session's carts and orders.

Each history event votes ``type_weight * decay ** steps_back`` for its item; the item passes
the vote to its neighbours as ``(weight / its largest weight) ** neighbour_power`` (0: every
neighbour counts once, as in the notebooks).
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

MATRICES = ["clicks", "carts_orders", "buy2buy"]
COUNT_COLUMNS = ["item", "neighbour", "weight", "rank"]


def fit_covisitation(
    counts: pd.DataFrame, buy2buy: pd.DataFrame, items: pd.DataFrame
) -> pd.DataFrame:
    """The SQL results (``covisitation_counts.sql``: the clicks and carts_orders matrices;
    ``covisitation_buy2buy.sql``) as one table: (matrix, item, neighbour, weight, rank).

    ``items`` (``fit_items`` of the sessions the queries read by path): as an input it makes
    Kedro run them after data_preparation wrote the file, and lets this node check that the
    counts are of it.
    """
    require_columns(counts, ["matrix", *COUNT_COLUMNS], "covisitation_counts")
    require_columns(buy2buy, COUNT_COLUMNS, "covisitation_buy2buy")
    given = pd.Categorical(counts["matrix"])  # categorical from DuckDB, strings from BigQuery
    matrix = pd.Categorical(given, categories=MATRICES)
    unknown = (matrix.codes < 0) | (matrix.codes == MATRICES.index("buy2buy"))
    if unknown.any():
        raise ValueError(
            f"covisitation_counts field 'matrix' holds {given[unknown][0]!r}: expected one of "
            f"{MATRICES[:2]}"
        )
    buy2buy_matrix = pd.Categorical.from_codes(
        np.full(len(buy2buy), MATRICES.index("buy2buy")), categories=MATRICES
    )
    known = known_items(items)
    frames = []
    for name, table, labels in (
        ("covisitation_counts", counts, matrix),
        ("covisitation_buy2buy", buy2buy, buy2buy_matrix),
    ):
        require_known_items(table["item"].to_numpy(), known, name)
        frames.append(
            pd.DataFrame(
                {
                    "matrix": labels,
                    "item": table["item"].to_numpy(np.int32),
                    "neighbour": table["neighbour"].to_numpy(np.int32),
                    "weight": table["weight"].to_numpy(np.float32),
                    "rank": table["rank"].to_numpy(np.int16),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def recommend_covisitation(
    sessions: pd.DataFrame, neighbours: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Candidates (new items) per session and event type from the co-visitation matrices."""
    require_columns(neighbours, ["matrix", *COUNT_COLUMNS], "covisitation_neighbours")
    n_items = 1 + int(max(neighbours["item"].max(), neighbours["neighbour"].max(), -1))
    power = float(params["neighbour_power"])
    matrices = {}
    for name in MATRICES:
        part = neighbours[neighbours["matrix"] == name]
        matrices[name] = neighbour_matrix(
            part["item"].to_numpy(), part["neighbour"].to_numpy(), part["weight"].to_numpy(),
            n_items, power,
        )  # fmt: skip
    weights = type_weights(params)
    events, top_k = int(params["history_events"]), int(params["top_k"])

    def recommend_chunk(chunk) -> pd.DataFrame:
        everything = np.ones(len(chunk.item), dtype=bool)
        seen = chunk.seen(n_items)
        clicks_history = chunk.matrix(
            recency_weights(chunk, params["clicks_decay"], weights, events), everything, n_items
        )
        buys_history = chunk.matrix(
            recency_weights(chunk, params["buys_decay"], weights, events), everything, n_items
        )
        bought = chunk.matrix(np.ones(len(chunk.item)), chunk.type > 0, n_items)
        bought.data[:] = 1.0
        clicks = top_new_items(clicks_history @ matrices["clicks"], seen, top_k)
        buys = top_new_items(
            buys_history @ matrices["carts_orders"]
            + float(params["buy2buy_weight"]) * (bought @ matrices["buy2buy"]),
            seen,
            top_k,
        )
        return candidate_frame(chunk, {"clicks": clicks, "carts": buys, "orders": buys})

    chunks = session_chunks(sessions, int(params["sessions_per_chunk"]))
    return concat_candidates(map_forked(recommend_chunk, chunks, params.get("processes")))

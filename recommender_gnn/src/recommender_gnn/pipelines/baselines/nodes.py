"""Two baselines every session model must beat: trending popularity and co-visitation.

Predictions use one format for every model: ``session``, ``event_type`` ('clicks'|'carts'|
'orders'), ``item``, ``rank`` (1..20), ``score`` (higher is better).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns

EVENT_TYPES = ["clicks", "carts", "orders"]
PREDICTION_COLUMNS = ["session", "event_type", "item", "rank", "score"]
DAY = 86_400


def popular_items(train_sessions: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The ``top_k`` items of each event type over the last ``popularity_days`` of training."""
    require_columns(train_sessions, ["item", "ts", "type"], "train_sessions")
    top_k = int(params["top_k"])
    recent = train_sessions[
        train_sessions["ts"] >= train_sessions["ts"].max() - params["popularity_days"] * DAY
    ]
    frames = []
    for code, event_type in enumerate(EVENT_TYPES):
        counts = recent.loc[recent["type"] == code, "item"].value_counts()
        if len(counts) < top_k:  # rare types (orders) borrow from all events
            counts = (
                pd.concat([counts, recent["item"].value_counts() * 1e-6]).groupby(level=0).sum()
            )
        counts = counts.rename_axis("item").reset_index(name="score")
        counts = counts.sort_values(["score", "item"], ascending=[False, True]).head(top_k)
        frames.append(counts.assign(event_type=event_type, rank=np.arange(1, len(counts) + 1)))
    return pd.concat(frames, ignore_index=True)[["event_type", "item", "rank", "score"]]


def recommend_popular(sessions: pd.DataFrame, popular: pd.DataFrame) -> pd.DataFrame:
    """The same popular items for every session."""
    session_ids = pd.DataFrame({"session": np.unique(sessions["session"])})
    predictions = session_ids.merge(popular, how="cross")
    return predictions[PREDICTION_COLUMNS].sort_values(
        ["session", "event_type", "rank"], ignore_index=True
    )


def covisitation_neighbours(counts: pd.DataFrame, train_sessions: pd.DataFrame) -> pd.DataFrame:
    """The SQL result with the contract's types (BigQuery and DuckDB differ in int widths).

    ``train_sessions`` is what the query read: taking it as an input makes Kedro run the query
    after data_preparation wrote the file, and lets this node check that the counts are of it.
    """
    require_columns(counts, ["item", "neighbour", "weight", "rank"], "covisitation_counts")
    stale = ~counts["item"].isin(train_sessions["item"].unique())
    if stale.any():
        raise ValueError(
            f"covisitation_counts field 'item' holds {int(stale.sum())} rows of items that are "
            "not in train_sessions: the query read another table than data_preparation wrote"
        )
    return counts.astype(
        {"item": "int64", "neighbour": "int64", "weight": "float64", "rank": "int64"}
    )


def recommend_covisitation(
    sessions: pd.DataFrame,
    neighbours: pd.DataFrame,
    popular: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Score = ``history_weight`` x the session's own items (recent and carted count more)
    + the co-visitation neighbours of its recent items; each part scaled to 1 per session;
    popular items fill sessions with fewer than ``top_k`` candidates.

    Sessions are scored ``sessions_per_chunk`` at a time: candidates are history x neighbours
    rows, too many at OTTO's size (1.7 M test sessions) to build at once.
    """
    ids = np.unique(sessions["session"])
    size = int(params.get("sessions_per_chunk", 100_000))
    chunks = [
        _recommend_chunk(
            sessions[sessions["session"].isin(ids[start : start + size])],
            neighbours,
            popular,
            params,
        )
        for start in range(0, len(ids), size)
    ]
    return pd.concat(chunks, ignore_index=True)


def _recommend_chunk(
    sessions: pd.DataFrame,
    neighbours: pd.DataFrame,
    popular: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    top_k = int(params["top_k"])
    type_weight = np.asarray(params["type_weights"], dtype=float)
    recent = sessions.groupby("session").tail(int(params["history_events"])).copy()
    steps_back = recent.groupby("session").cumcount(ascending=False).to_numpy()
    recent["weight"] = (
        type_weight[recent["type"].to_numpy()] * float(params["history_decay"]) ** steps_back
    )
    history = recent.groupby(["session", "item"], as_index=False)["weight"].sum()

    candidates = history.merge(
        neighbours[["item", "neighbour", "weight"]], on="item", suffixes=("", "_n")
    )
    candidates["score"] = candidates["weight"] * candidates["weight_n"]
    covisited = candidates.groupby(["session", "neighbour"], as_index=False)["score"].sum()
    covisited = covisited.rename(columns={"neighbour": "item"})
    covisited["score"] /= covisited.groupby("session")["score"].transform("max")
    own = history.rename(columns={"weight": "score"})
    own["score"] = (
        float(params["history_weight"])
        * own["score"]
        / own.groupby("session")["score"].transform("max")
    )
    scored = pd.concat([own, covisited]).groupby(["session", "item"], as_index=False)["score"].sum()
    ranked = scored.sort_values(["session", "score", "item"], ascending=[True, False, True])
    ranked = ranked.groupby("session").head(top_k)

    frames = []
    for event_type in EVENT_TYPES:
        fill = popular.loc[popular["event_type"] == event_type, ["item"]].assign(score=-1.0)
        fill["score"] -= np.arange(len(fill)) * 1e-3
        session_ids = pd.DataFrame({"session": np.unique(sessions["session"])})
        both = pd.concat([ranked, session_ids.merge(fill, how="cross")])
        both = both.drop_duplicates(["session", "item"]).sort_values(
            ["session", "score", "item"], ascending=[True, False, True]
        )
        best = both.groupby("session").head(top_k).copy()
        best["rank"] = best.groupby("session").cumcount() + 1
        frames.append(best.assign(event_type=event_type))
    return pd.concat(frames, ignore_index=True)[PREDICTION_COLUMNS].sort_values(
        ["session", "event_type", "rank"], ignore_index=True
    )

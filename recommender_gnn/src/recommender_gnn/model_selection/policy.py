"""The session's own items: how far up they go is chosen per event type on validation.

Every model writes candidates of *new* items only (items not in the session). Whether the
session's own items belong in the list, and how strongly, is a property of the data, not of a
model: in OTTO most carts and orders are items the session already clicked, in other logs nobody
returns to an item. So one policy, the same for every model, merges two ranked lists per
session and event type: the model's new items (rank r scores ``1 / (offset + r)``) and the
session's history (rank h scores ``weight / (offset + h)``). ``weight`` 0 leaves the session's
items out, ``inf`` puts them all first, values between interleave them. The weight of each event
type is the one with the best validation recall (ties: the smaller weight, so "leave out" wins
when nothing is gained). Lists shorter than ``top_k`` are filled with the trending items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns
from recommender_gnn.model_selection.metrics import (
    EVENT_TYPES,
    TYPE_WEIGHTS,
    session_scores,
)

CANDIDATE_COLUMNS = ["session", "event_type", "item", "rank", "score"]
FIRST = float("inf")


def event_type_column(values) -> pd.Categorical:
    return pd.Categorical(values, categories=EVENT_TYPES)


def session_history(sessions: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """(session, item, history_rank): the session's distinct items, the most telling first.

    An event ``n`` steps before the session's end votes ``type_weight * decay ** n`` for its
    item (a cart says more than a click, a recent click more than an old one).
    """
    require_columns(sessions, ["session", "item", "ts", "type"], "sessions")
    ordered = sessions.sort_values(["session", "ts"], kind="stable")
    session = ordered["session"].to_numpy()
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if len(session) else []
    ends = np.append(np.asarray(starts, dtype=np.int64)[1:], len(session))
    steps_back = (
        np.repeat(ends, np.diff(np.append(starts, len(session)))) - 1 - np.arange(len(session))
    )
    type_weights = np.asarray(params["type_weights"], dtype=float)
    votes = pd.DataFrame(
        {
            "session": session,
            "item": ordered["item"].to_numpy(),
            "vote": type_weights[ordered["type"].to_numpy(dtype=np.int64)]
            * float(params["decay"]) ** steps_back,
        }
    )
    history = votes.groupby(["session", "item"], as_index=False, sort=False)["vote"].sum()
    history = history.sort_values(
        ["session", "vote", "item"], ascending=[True, False, True], kind="stable"
    )
    history["history_rank"] = history.groupby("session").cumcount() + 1
    return history[["session", "item", "history_rank"]].reset_index(drop=True)


def _merged(
    new: pd.DataFrame, history: pd.DataFrame, weight: float, offset: float, top_k: int
) -> pd.DataFrame:
    """One event type: (session, item, merged score) of the best ``top_k`` per session."""
    parts = [
        pd.DataFrame(
            {
                "session": new["session"].to_numpy(),
                "item": new["item"].to_numpy(),
                "merged": 1.0 / (offset + new["rank"].to_numpy(dtype=float)),
            }
        )
    ]
    if weight > 0:
        rank = history["history_rank"].to_numpy(dtype=float)
        merged = 2.0 + 1.0 / rank if np.isinf(weight) else weight / (offset + rank)
        parts.append(
            pd.DataFrame(
                {
                    "session": history["session"].to_numpy(),
                    "item": history["item"].to_numpy(),
                    "merged": merged,
                }
            )
        )
    both = pd.concat(parts, ignore_index=True)
    order = np.lexsort(
        (both["item"].to_numpy(), -both["merged"].to_numpy(), both["session"].to_numpy())
    )
    both = both.iloc[order]
    both = both[~both.duplicated(["session", "item"])]
    position = both.groupby("session", sort=False).cumcount().to_numpy()
    return both[position < top_k]


def _filled(
    chosen: pd.DataFrame,
    sessions: np.ndarray,
    excluded: pd.DataFrame | None,
    popular: np.ndarray,
    top_k: int,
) -> pd.DataFrame:
    """Sessions with fewer than ``top_k`` items get trending items they do not hold yet."""
    counts = chosen.groupby("session").size().reindex(sessions, fill_value=0)
    short = counts[counts < top_k]
    if short.empty or popular.size == 0:
        return chosen
    fill = pd.DataFrame(
        {
            "session": np.repeat(short.index.to_numpy(), popular.size),
            "item": np.tile(popular, short.size),
            "merged": np.tile(-1.0 - np.arange(popular.size, dtype=float), short.size),
        }
    )
    taken = [chosen[["session", "item"]]] + ([] if excluded is None else [excluded])
    taken = pd.concat(taken, ignore_index=True)
    keys = pd.MultiIndex.from_frame(fill[["session", "item"]])
    fill = fill[~keys.isin(pd.MultiIndex.from_frame(taken))]
    fill = fill[
        fill.groupby("session").cumcount().to_numpy()
        < (top_k - counts.reindex(fill["session"]).to_numpy())
    ]
    return pd.concat([chosen, fill], ignore_index=True)


def apply_seen_policy(
    candidates: pd.DataFrame,
    sessions: pd.DataFrame,
    popular_items: pd.DataFrame,
    weights: dict[str, float],
    params: dict[str, Any],
    history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Predictions (contract of every model) from new-item candidates and the history."""
    require_columns(candidates, CANDIDATE_COLUMNS, "candidates")
    history = session_history(sessions, params["history"]) if history is None else history
    session_ids = np.unique(sessions["session"].to_numpy())
    top_k, offset = int(params["top_k"]), float(params["rank_offset"])
    frames = []
    for event_type in EVENT_TYPES:
        new = candidates[candidates["event_type"] == event_type]
        weight = float(weights[event_type])
        chosen = _merged(new, history, weight, offset, top_k)
        popular = popular_items.loc[popular_items["event_type"] == event_type]
        popular = popular.sort_values("rank")["item"].to_numpy()
        excluded = history[["session", "item"]] if weight == 0 else None
        chosen = _filled(chosen, session_ids, excluded, popular, top_k)
        order = np.lexsort((-chosen["merged"].to_numpy(), chosen["session"].to_numpy()))
        chosen = chosen.iloc[order]
        frames.append(
            pd.DataFrame(
                {
                    "session": chosen["session"].to_numpy(dtype=np.int32),
                    "event_type": event_type_column(np.full(len(chosen), event_type)),
                    "item": chosen["item"].to_numpy(dtype=np.int32),
                    "rank": (chosen.groupby("session").cumcount() + 1).to_numpy(dtype=np.int16),
                    "score": chosen["merged"].to_numpy(dtype=np.float32),
                }
            )
        )
    predictions = pd.concat(frames, ignore_index=True)
    order = np.lexsort(
        (
            predictions["rank"].to_numpy(),
            predictions["event_type"].cat.codes,
            predictions["session"].to_numpy(),
        )
    )
    return predictions.iloc[order].reset_index(drop=True)


def _recall(predictions: pd.DataFrame, labels: pd.DataFrame, event_type: str) -> float:
    part = labels[labels["event_type"] == event_type]
    if part.empty:
        return 0.0
    scores = session_scores(predictions, part)
    return float(scores["hits"].sum() / scores["labels"].sum())


def choose_seen_policy(
    candidates: pd.DataFrame,
    sessions: pd.DataFrame,
    labels: pd.DataFrame,
    popular_items: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, float], pd.DataFrame]:
    """The history weight per event type with the best validation recall, and every score.

    Returns ({event type: weight}, table of weight x event type recall).
    """
    require_columns(labels, ["session", "event_type", "item"], "validation labels")
    history = session_history(sessions, params["history"])
    weights = sorted(float(w) for w in params["weights"])
    rows = []
    for weight in weights:
        predictions = apply_seen_policy(
            candidates,
            sessions,
            popular_items,
            dict.fromkeys(EVENT_TYPES, weight),
            params,
            history,
        )
        rows.append({"weight": weight, **{t: _recall(predictions, labels, t) for t in EVENT_TYPES}})
    table = pd.DataFrame(rows)
    chosen = {t: float(table.loc[table[t].idxmax(), "weight"]) for t in EVENT_TYPES}
    return chosen, table


def policy_score(table: pd.DataFrame, chosen: dict[str, float]) -> dict[str, float]:
    """Validation recall per event type under the chosen weights, and OTTO's weighted score."""
    recalls = {
        t: float(table.loc[np.isclose(table["weight"], chosen[t]), t].iloc[0]) for t in EVENT_TYPES
    }
    return {**recalls, "score": sum(TYPE_WEIGHTS[t] * recalls[t] for t in EVENT_TYPES)}


def policy_scores(
    candidates: pd.DataFrame,
    sessions: pd.DataFrame,
    labels: pd.DataFrame,
    popular_items: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Validation recalls and score of candidates under their best seen-item policy.

    What every model is tuned and early-stopped on, so all are judged by the same rule.
    """
    chosen, table = choose_seen_policy(candidates, sessions, labels, popular_items, params)
    return {**policy_score(table, chosen), "policy": chosen}

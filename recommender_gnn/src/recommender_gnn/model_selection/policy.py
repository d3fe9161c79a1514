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
from recommender_gnn.forked import map_forked
from recommender_gnn.model_selection.metrics import (
    EVENT_TYPES,
    TYPE_WEIGHTS,
    event_type_codes,
)
from recommender_gnn.sorting import lexsort, positions, sorted_by_session

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


KEY = np.int64(2**31)  # session * KEY + item: one int64 key per (session, item)


def _isin(values: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``np.isin`` by pandas' hash table: several times faster on int64 keys."""
    return pd.Series(values, copy=False).isin(allowed).to_numpy()


def _merged(
    new: tuple[np.ndarray, ...],
    history: tuple[np.ndarray, ...],
    weight: float,
    offset: float,
    top_k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One event type: (session, item, merged score) of the best ``top_k`` per session, sorted
    by session then score (ties: the smaller item id)."""
    session, item, rank = new
    merged = 1.0 / (offset + rank.astype(float))
    if weight > 0:
        history_rank = history[2].astype(float)
        seen = 2.0 + 1.0 / history_rank if np.isinf(weight) else weight / (offset + history_rank)
        session = np.concatenate([session, history[0]])
        item = np.concatenate([item, history[1]])
        merged = np.concatenate([merged, seen])
    order = lexsort((item, -merged, session))
    session, item, merged = session[order], item[order], merged[order]
    # A model that broke the contract (a seen item among its candidates) counts once.
    first = ~pd.Series(session.astype(np.int64) * KEY + item).duplicated().to_numpy()
    session, item, merged = session[first], item[first], merged[first]
    keep = positions(session) < top_k
    return session[keep], item[keep], merged[keep]


def _filled(
    chosen: tuple[np.ndarray, ...],
    sessions: np.ndarray,
    excluded: np.ndarray | None,
    popular: np.ndarray,
    top_k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sessions with fewer than ``top_k`` items get trending items they do not hold yet."""
    session, item, merged = chosen
    counts = np.zeros(sessions.size, dtype=np.int64)
    np.add.at(counts, np.searchsorted(sessions, session), 1)
    short = np.flatnonzero(counts < top_k)
    if short.size == 0 or popular.size == 0:
        return chosen
    fill_session = np.repeat(sessions[short], popular.size)
    fill_item = np.tile(popular, short.size)
    fill_merged = np.tile(-1.0 - np.arange(popular.size, dtype=float), short.size)
    taken = session.astype(np.int64) * KEY + item
    if excluded is not None:
        taken = np.concatenate([taken, excluded])
    free = ~_isin(fill_session.astype(np.int64) * KEY + fill_item, taken)
    fill_session, fill_item, fill_merged = fill_session[free], fill_item[free], fill_merged[free]
    room = top_k - np.repeat(counts[short], popular.size)[free]
    keep = positions(fill_session) < room
    return (
        np.concatenate([session, fill_session[keep]]),
        np.concatenate([item, fill_item[keep]]),
        np.concatenate([merged, fill_merged[keep]]),
    )


def _history_arrays(history: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return (
        history["session"].to_numpy(),
        history["item"].to_numpy(),
        history["history_rank"].to_numpy(),
    )


def _one_type(
    new: tuple[np.ndarray, ...],
    history: tuple[np.ndarray, ...],
    session_ids: np.ndarray,
    popular: np.ndarray,
    weight: float,
    params: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(session, item, score) of one event type's lists, sorted by session and rank."""
    top_k, offset = int(params["top_k"]), float(params["rank_offset"])
    chosen = _merged(new, history, weight, offset, top_k)
    excluded = history[0].astype(np.int64) * KEY + history[1] if weight == 0 else None
    session, item, merged = _filled(chosen, session_ids, excluded, popular, top_k)
    order = lexsort((-merged, session))
    return session[order], item[order], merged[order]


def _by_type(candidates: pd.DataFrame, popular_items: pd.DataFrame) -> dict[str, tuple]:
    """Per event type: the candidates' (session, item, rank) and the trending items in order."""
    require_columns(candidates, CANDIDATE_COLUMNS, "candidates")
    types = event_type_codes(candidates["event_type"])
    popular_types = np.asarray(popular_items["event_type"].astype(str))
    parts = {}
    for code, event_type in enumerate(EVENT_TYPES):
        mask = types == code
        new = tuple(candidates[c].to_numpy()[mask] for c in ("session", "item", "rank"))
        popular = popular_items[popular_types == event_type].sort_values("rank")
        parts[event_type] = (new, popular["item"].to_numpy())
    return parts


def empty_predictions() -> pd.DataFrame:
    """Predictions of no session, in the contract's dtypes."""
    return pd.DataFrame(
        {
            "session": np.zeros(0, dtype=np.int32),
            "event_type": event_type_column([]),
            "item": np.zeros(0, dtype=np.int32),
            "rank": np.zeros(0, dtype=np.int16),
            "score": np.zeros(0, dtype=np.float32),
        }
    )


def apply_seen_policy(
    candidates: pd.DataFrame,
    sessions: pd.DataFrame,
    popular_items: pd.DataFrame,
    weights: dict[str, float],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Predictions (contract of every model) from new-item candidates and the history, in
    chunks of ``sessions_per_chunk`` sessions: every step is per session, so the result is the
    same, and memory is bounded by a chunk's work (OTTO's test week: 141 M candidate rows);
    the chunks run in ``processes`` forked workers."""
    require_columns(candidates, CANDIDATE_COLUMNS, "candidates")
    require_columns(sessions, ["session", "item", "ts", "type"], "sessions")
    candidates, sessions = sorted_by_session(candidates), sorted_by_session(sessions)
    session_ids = np.unique(sessions["session"].to_numpy())
    chunk = int(params.get("sessions_per_chunk") or max(session_ids.size, 1))
    bounds = session_ids[::chunk][1:]
    candidate_cuts = np.r_[
        0, np.searchsorted(candidates["session"].to_numpy(), bounds), len(candidates)
    ]
    session_cuts = np.r_[0, np.searchsorted(sessions["session"].to_numpy(), bounds), len(sessions)]

    def apply_chunk(i: int) -> pd.DataFrame:
        return _apply_chunk(
            candidates.iloc[candidate_cuts[i] : candidate_cuts[i + 1]],
            sessions.iloc[session_cuts[i] : session_cuts[i + 1]],
            popular_items,
            weights,
            params,
        )

    frames = map_forked(apply_chunk, range(len(candidate_cuts) - 1), params.get("processes"))
    return pd.concat(frames, ignore_index=True) if frames else empty_predictions()


def _apply_chunk(
    candidates: pd.DataFrame,
    sessions: pd.DataFrame,
    popular_items: pd.DataFrame,
    weights: dict[str, float],
    params: dict[str, Any],
) -> pd.DataFrame:
    history = _history_arrays(session_history(sessions, params["history"]))
    session_ids = np.unique(sessions["session"].to_numpy())
    frames = []
    for event_type, (new, popular) in _by_type(candidates, popular_items).items():
        session, item, merged = _one_type(
            new, history, session_ids, popular, float(weights[event_type]), params
        )
        frames.append(
            pd.DataFrame(
                {
                    "session": session.astype(np.int32),
                    "event_type": event_type_column(np.full(session.size, event_type)),
                    "item": item.astype(np.int32),
                    "rank": (positions(session) + 1).astype(np.int16),
                    "score": merged.astype(np.float32),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values(
        ["session", "event_type", "rank"], kind="stable", ignore_index=True
    )


def choose_seen_policy(
    candidates: pd.DataFrame,
    sessions: pd.DataFrame,
    labels: pd.DataFrame,
    popular_items: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, float], pd.DataFrame]:
    """The history weight per event type with the best validation recall, and every score.

    Recall is OTTO's (``metrics.session_scores``' rule): hits of the top 20 over the labels,
    capped at 20 per session. Returns ({event type: weight}, weight x event type recall).
    """
    require_columns(labels, ["session", "event_type", "item"], "validation labels")
    history = _history_arrays(session_history(sessions, params["history"]))
    session_ids = np.unique(sessions["session"].to_numpy())
    label_types = np.asarray(labels["event_type"].astype(str))
    weights = sorted(float(w) for w in params["weights"])
    parts = _by_type(candidates, popular_items)
    labelled = {}
    for event_type in EVENT_TYPES:
        part = labels[label_types == event_type]
        label_session = part["session"].to_numpy(dtype=np.int64)
        labelled[event_type] = (
            label_session * KEY + part["item"].to_numpy(),
            np.minimum(np.unique(label_session, return_counts=True)[1], 20).sum(),
        )

    def recall(job: tuple[str, float]) -> float:
        event_type, weight = job
        (new, popular), (label_keys, denominator) = parts[event_type], labelled[event_type]
        session, item, _ = _one_type(new, history, session_ids, popular, weight, params)
        top = positions(session) < 20
        keys = session[top].astype(np.int64) * KEY + item[top]
        return float(_isin(label_keys, keys).sum() / denominator) if denominator else 0.0

    # 3 event types x every weight: independent, so in ``processes`` forked workers.
    jobs = [(event_type, weight) for event_type in EVENT_TYPES for weight in weights]
    recalls = iter(map_forked(recall, jobs, params.get("processes")))
    table = pd.DataFrame({"weight": weights})
    for event_type in EVENT_TYPES:
        table[event_type] = [next(recalls) for _ in weights]
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

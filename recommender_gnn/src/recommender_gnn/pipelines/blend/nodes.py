"""Reciprocal-rank fusion of several models' candidate lists, weights tuned on validation.

The models fail differently (co-visitation knows what is bought together across sessions,
transitions what follows what, session kNN which whole sessions look alike, the GNN reads the
session's order), so a weighted fusion can beat each of them. Each member's candidate of rank
r adds ``weight / (rank_offset + r)``; the best ``top_k`` new items per session and event type
are the blend's candidates, which then get the seen-item policy like any model. The weights
are tuned with the same protocol and trial budget as every model (model_selection.tuning).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns
from recommender_gnn.forked import map_forked
from recommender_gnn.model_selection.metrics import EVENT_TYPES, event_type_codes
from recommender_gnn.model_selection.policy import CANDIDATE_COLUMNS
from recommender_gnn.model_selection.tuning import tune_recommender
from recommender_gnn.sorting import lexsort, positions, sorted_by_session

logger = logging.getLogger(__name__)


def _fused_chunk(parts: list[tuple[str, pd.DataFrame, float]], rank_offset: float, top_k: int):
    """(session, type code, item, rank, fused) of the best ``top_k`` per session and event type
    of one chunk of sessions, sorted by session, type, fused score (ties: the smaller item)."""
    keys, scores = [], []
    for name, part, weight in parts:
        types = event_type_codes(part["event_type"])
        if (types < 0).any():
            raise ValueError(
                f"{name} candidates field 'event_type' holds "
                f"{part['event_type'][types < 0].iloc[0]!r}: expected one of {EVENT_TYPES}"
            )
        group = part["session"].to_numpy(np.int64) * len(EVENT_TYPES) + types
        keys.append((group << 32) | part["item"].to_numpy(np.int64))
        scores.append(weight / (rank_offset + part["rank"].to_numpy(dtype=float)))
    # Summed in member order, as one groupby over all members' rows would; the unique keys
    # come sorted by (session, type, item).
    key, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    score = np.bincount(inverse, weights=np.concatenate(scores), minlength=key.size)
    group, item = key >> 32, key & 0xFFFFFFFF
    order = lexsort((-score, group))  # stable: equal scores keep the smaller item first
    group, item, score = group[order], item[order], score[order]
    position = positions(group)
    keep = position < top_k
    # Compact per chunk: 141 M rows of the test week are kept until the end.
    group = group[keep]
    return (
        (group // len(EVENT_TYPES)).astype(np.int32),
        (group % len(EVENT_TYPES)).astype(np.int8),
        item[keep].astype(np.int32),
        (position[keep] + 1).astype(np.int16),
        score[keep].astype(np.float32),
    )


def blend_candidates(
    members: dict[str, pd.DataFrame],
    weights: dict[str, float],
    top_k: int,
    rank_offset: float,
    sessions_per_chunk: int | None = None,
    processes: int | None = None,
) -> pd.DataFrame:
    """The fused top ``top_k`` per (session, event type); ties go to the smaller item id.

    Fused in chunks of ``sessions_per_chunk`` session ids (same result): at OTTO's size the
    members hold 141 M test rows each, and one groupby over all of them needs more memory
    than the members themselves; the chunks run in ``processes`` forked workers."""
    active = []
    for name, weight in weights.items():
        if name not in members:
            raise ValueError(f"params blend.members names {name!r}, which has no candidates")
        require_columns(members[name], CANDIDATE_COLUMNS, f"{name} candidates")
        if weight > 0:
            active.append((name, sorted_by_session(members[name]), float(weight)))
    if not active:
        raise ValueError("params blend: every member weight is 0; at least one must be > 0")
    sessions = [frame["session"].to_numpy() for _, frame, _ in active]
    low = min((int(s[0]) for s in sessions if s.size), default=0)
    high = max((int(s[-1]) for s in sessions if s.size), default=0) + 1
    bounds = np.arange(low, high, int(sessions_per_chunk or max(high - low, 1)))[1:]
    cuts = [np.r_[0, np.searchsorted(s, bounds), s.size] for s in sessions]

    def fused(i: int):
        parts = [
            (name, frame.iloc[cut[i] : cut[i + 1]], weight)
            for (name, frame, weight), cut in zip(active, cuts, strict=True)
        ]
        return _fused_chunk(parts, rank_offset, top_k)

    chunks = map_forked(fused, range(bounds.size + 1), processes)
    session, type_code, item, rank, score = (
        np.concatenate(column) for column in zip(*chunks, strict=True)
    )
    return pd.DataFrame(
        {
            "session": session,
            "event_type": pd.Categorical.from_codes(type_code, categories=EVENT_TYPES),
            "item": item,
            "rank": rank,
            "score": score,
        }
    )


def _member_weights(params: dict[str, Any]) -> dict[str, float]:
    return {name: float(params[f"weight_{name}"]) for name in params["members"]}


def tune_blend(
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    popular_items: pd.DataFrame,
    params: dict[str, Any],
    selection: dict[str, Any],
    **members: pd.DataFrame,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """(the blend's parameters with the best member weights, the trials table)."""

    def recommend(sessions, trial_params):
        kept = set(np.unique(sessions["session"]))
        chosen = {n: c[c["session"].isin(kept)] for n, c in members.items()}
        return blend_candidates(
            chosen, _member_weights(trial_params), int(params["top_k"]), params["rank_offset"]
        )

    best, trials = tune_recommender(
        "blend", recommend, (), valid_sessions, valid_labels, popular_items, params, selection
    )
    logger.info("blend weights %s", _member_weights(best))
    return best, trials


def apply_blend(params: dict[str, Any], **members: pd.DataFrame) -> pd.DataFrame:
    """The blend's candidates with the tuned weights."""
    return blend_candidates(
        members,
        _member_weights(params),
        int(params["top_k"]),
        params["rank_offset"],
        params.get("sessions_per_chunk"),
        params.get("processes"),
    )

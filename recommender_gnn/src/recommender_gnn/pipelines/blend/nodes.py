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
from recommender_gnn.model_selection.policy import CANDIDATE_COLUMNS, event_type_column
from recommender_gnn.model_selection.tuning import tune_recommender

logger = logging.getLogger(__name__)


def blend_candidates(
    members: dict[str, pd.DataFrame], weights: dict[str, float], top_k: int, rank_offset: float
) -> pd.DataFrame:
    """The fused top ``top_k`` per (session, event type); ties go to the smaller item id."""
    parts = []
    for name, weight in weights.items():
        if name not in members:
            raise ValueError(f"params blend.members names {name!r}, which has no candidates")
        candidates = members[name]
        require_columns(candidates, CANDIDATE_COLUMNS, f"{name} candidates")
        if weight <= 0:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "session": candidates["session"].to_numpy(dtype=np.int32),
                    "event_type": np.asarray(candidates["event_type"].astype(str)),
                    "item": candidates["item"].to_numpy(dtype=np.int32),
                    "fused": weight / (rank_offset + candidates["rank"].to_numpy(dtype=float)),
                }
            )
        )
    if not parts:
        raise ValueError("params blend: every member weight is 0; at least one must be > 0")
    keys = ["session", "event_type", "item"]
    fused = pd.concat(parts, ignore_index=True).groupby(keys, as_index=False, sort=False)["fused"]
    fused = fused.sum()
    fused["event_type"] = event_type_column(fused["event_type"])
    order = np.lexsort(
        (
            fused["item"].to_numpy(),
            -fused["fused"].to_numpy(),
            fused["event_type"].cat.codes.to_numpy(),
            fused["session"].to_numpy(),
        )
    )
    fused = fused.iloc[order]
    rank = fused.groupby(["session", "event_type"], observed=True, sort=False).cumcount() + 1
    fused = fused.assign(rank=rank.to_numpy(dtype=np.int16))[rank.to_numpy() <= top_k]
    return pd.DataFrame(
        {
            "session": fused["session"].to_numpy(dtype=np.int32),
            "event_type": fused["event_type"].to_numpy(),
            "item": fused["item"].to_numpy(dtype=np.int32),
            "rank": fused["rank"].to_numpy(dtype=np.int16),
            "score": fused["fused"].to_numpy(dtype=np.float32),
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
        members, _member_weights(params), int(params["top_k"]), params["rank_offset"]
    )

"""Rank- or score-normalised blend of two ranked lists per (session, event type).

The two models fail differently: co-visitation knows which items are bought together across
all sessions, the GNN reads the order of the session itself. Each list is normalised per
session and event type, the weighted sum decides the top 20. The weight is chosen on the
validation split (never on test) and written to a report with every candidate's score.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.pipelines.model_training.evaluation import EVENT_TYPES, otto_scores

logger = logging.getLogger(__name__)

KEYS = ["session", "event_type"]
PREDICTION_COLUMNS = ["session", "event_type", "item", "rank", "score"]


def _check(predictions: pd.DataFrame, dataset: str) -> None:
    missing = [column for column in PREDICTION_COLUMNS if column not in predictions.columns]
    if missing:
        raise ValueError(
            f"{dataset} lacks column(s) {missing}; predictions need {PREDICTION_COLUMNS}; "
            f"it has {sorted(predictions.columns)}"
        )


def _normalised(predictions: pd.DataFrame, method: str, rank_offset: float) -> pd.Series:
    if method == "rank":
        return 1.0 / (rank_offset + predictions["rank"])
    if method == "score":
        group = predictions.groupby(KEYS)["score"]
        low, high = group.transform("min"), group.transform("max")
        return ((predictions["score"] - low) / (high - low).replace(0.0, 1.0)).where(
            high > low, 1.0
        )
    raise ValueError(f"params blend.method must be 'rank' or 'score', not {method!r}")


def blend(
    gnn: pd.DataFrame,
    covisitation: pd.DataFrame,
    weight: float | dict[str, float],
    params: dict[str, Any],
) -> pd.DataFrame:
    """``weight`` * GNN + (1 - ``weight``) * co-visitation, top ``params.top_k`` per session/type.

    ``weight`` is one number or one per event type. An item in only one list gets 0 from the
    other. Ties go to the smaller item id, so the result is deterministic.
    """
    _check(gnn, "gnn predictions")
    _check(covisitation, "covisitation predictions")
    method, offset = params["method"], params["rank_offset"]
    weights = weight if isinstance(weight, dict) else dict.fromkeys(EVENT_TYPES, weight)
    parts = [
        frame[["session", "event_type", "item"]].assign(
            score=_share(frame, weights, is_gnn) * _normalised(frame, method, offset)
        )
        for frame, is_gnn in ((gnn, True), (covisitation, False))
    ]
    combined = (
        pd.concat(parts, ignore_index=True).groupby([*KEYS, "item"], as_index=False)["score"].sum()
    )
    combined = combined.sort_values([*KEYS, "score", "item"], ascending=[True, True, False, True])
    combined["rank"] = combined.groupby(KEYS).cumcount() + 1
    top = combined[combined["rank"] <= params["top_k"]].reset_index(drop=True)
    return top.astype({"session": "int64", "item": "int64", "rank": "int64"})[PREDICTION_COLUMNS]


def _share(frame: pd.DataFrame, weights: dict[str, float], is_gnn: bool) -> pd.Series:
    share = frame["event_type"].map(weights).astype("float64")
    return share if is_gnn else 1.0 - share


def tune_blend_weight(
    gnn_valid_predictions: pd.DataFrame,
    covisitation_valid_predictions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[float, pd.DataFrame]:
    """One GNN weight per event type, each the best Recall@20 of its type on validation.

    OTTO's score is a weighted sum of the three recalls and each type's list is blended on its
    own, so choosing per type maximises the score (the GNN is strong on next clicks, the
    co-visitation history on carts and orders). Ties go to the smallest weight.
    """
    rows = []
    for weight in params["weights"]:
        blended = blend(gnn_valid_predictions, covisitation_valid_predictions, weight, params)
        rows.append({"weight": float(weight), **otto_scores(blended, valid_labels)})
    table = pd.DataFrame(rows)
    chosen = {name: float(table.loc[table[name].idxmax(), "weight"]) for name in EVENT_TYPES}
    for name, weight in chosen.items():
        table[f"chosen_{name}"] = np.isclose(table["weight"], weight)
    final = otto_scores(
        blend(gnn_valid_predictions, covisitation_valid_predictions, chosen, params), valid_labels
    )
    logger.info("GNN blend weights %s: validation OTTO score %.4f", chosen, final["score"])
    return chosen, table


def blend_test_predictions(gnn_predictions, covisitation_predictions, weight, params):
    return blend(gnn_predictions, covisitation_predictions, weight, params)

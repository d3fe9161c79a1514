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

logger = logging.getLogger(__name__)

KEYS = ["session", "event_type"]
PREDICTION_COLUMNS = ["session", "event_type", "item", "rank", "score"]
OTTO_WEIGHTS = {"clicks": 0.10, "carts": 0.30, "orders": 0.60}


def _check(predictions: pd.DataFrame, dataset: str) -> None:
    missing = [column for column in PREDICTION_COLUMNS if column not in predictions.columns]
    if missing:
        raise ValueError(
            f"{dataset} lacks column(s) {missing}; predictions need {PREDICTION_COLUMNS}; "
            f"it has {sorted(predictions.columns)}"
        )


def otto_scores(predictions: pd.DataFrame, labels: pd.DataFrame, k: int = 20) -> dict[str, float]:
    """Recall@k per event type as OTTO defines it, and the weighted OTTO score.

    Per type: hits summed over sessions / min(k, number of labels) summed over sessions.
    """
    top = predictions.loc[predictions["rank"] <= k, ["session", "event_type", "item"]]
    hits = labels.merge(top.drop_duplicates(), on=["session", "event_type", "item"], how="inner")
    hit_counts = hits.groupby("event_type").size()
    label_counts = labels.groupby(KEYS).size().clip(upper=k).groupby("event_type").sum()
    result = {
        event_type: float(hit_counts.get(event_type, 0) / label_counts[event_type])
        if label_counts.get(event_type, 0)
        else 0.0
        for event_type in OTTO_WEIGHTS
    }
    result["score"] = sum(OTTO_WEIGHTS[name] * result[name] for name in OTTO_WEIGHTS)
    return result


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
    gnn: pd.DataFrame, covisitation: pd.DataFrame, weight: float, params: dict[str, Any]
) -> pd.DataFrame:
    """``weight`` * GNN + (1 - ``weight``) * co-visitation, top ``params.top_k`` per session/type.

    An item in only one list gets 0 from the other. Ties go to the smaller item id, so the
    result is deterministic.
    """
    _check(gnn, "gnn predictions")
    _check(covisitation, "covisitation predictions")
    method, offset = params["method"], params["rank_offset"]
    parts = [
        frame[["session", "event_type", "item"]].assign(
            score=share * _normalised(frame, method, offset)
        )
        for frame, share in ((gnn, weight), (covisitation, 1.0 - weight))
    ]
    combined = (
        pd.concat(parts, ignore_index=True).groupby([*KEYS, "item"], as_index=False)["score"].sum()
    )
    combined = combined.sort_values([*KEYS, "score", "item"], ascending=[True, True, False, True])
    combined["rank"] = combined.groupby(KEYS).cumcount() + 1
    top = combined[combined["rank"] <= params["top_k"]].reset_index(drop=True)
    return top.astype({"session": "int64", "item": "int64", "rank": "int64"})[PREDICTION_COLUMNS]


def tune_blend_weight(
    gnn_valid_predictions: pd.DataFrame,
    covisitation_valid_predictions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[float, pd.DataFrame]:
    """The GNN weight with the best OTTO score on the validation split (first of equals)."""
    rows = []
    for weight in params["weights"]:
        blended = blend(gnn_valid_predictions, covisitation_valid_predictions, weight, params)
        rows.append({"weight": float(weight), **otto_scores(blended, valid_labels)})
    table = pd.DataFrame(rows)
    best = float(table.loc[table["score"].idxmax(), "weight"])
    table["chosen"] = np.isclose(table["weight"], best)
    logger.info(
        "Blend weight of the GNN: %.2f (validation OTTO score %.4f)", best, table["score"].max()
    )
    return best, table


def blend_test_predictions(gnn_predictions, covisitation_predictions, weight, params):
    return blend(gnn_predictions, covisitation_predictions, weight, params)

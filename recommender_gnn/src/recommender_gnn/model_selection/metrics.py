"""OTTO's metric and MRR, from long predictions and labels.

Recall@20 per event type is OTTO's: summed hits over summed ``min(20, number of labels)``,
over the sessions that have labels of that type (clicks: the one next click). MRR@20 is for
the next click: the mean of 1/rank, 0 when the click is not in the top 20. The weighted score
is ``0.1 * clicks + 0.3 * carts + 0.6 * orders``. A session without predictions counts as
all misses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns

EVENT_TYPES = ["clicks", "carts", "orders"]
TYPE_WEIGHTS = {"clicks": 0.1, "carts": 0.3, "orders": 0.6}
METRICS = ["recall_clicks", "mrr_clicks", "recall_carts", "recall_orders", "score"]
LENGTH_BUCKETS = ["1", "2-4", "5+"]


def check_predictions(predictions: pd.DataFrame, dataset: str, top_k: int = 20) -> None:
    """Reject predictions that break the shared format, naming the dataset and the field."""
    require_columns(predictions, ["session", "event_type", "item", "rank"], dataset)
    unknown = ~predictions["event_type"].isin(EVENT_TYPES)
    if unknown.any():
        raise ValueError(
            f"{dataset} field 'event_type' holds {predictions['event_type'][unknown].iloc[0]!r}: "
            f"expected one of {EVENT_TYPES}"
        )
    duplicated = predictions.duplicated(["session", "event_type", "item"])
    if duplicated.any():
        row = predictions[duplicated].iloc[0]
        raise ValueError(
            f"{dataset} field 'item': item {row['item']} appears twice for session "
            f"{row['session']} ({row['event_type']}): expected distinct items"
        )
    sizes = predictions.groupby(["session", "event_type"]).size()
    if (sizes > top_k).any():
        (session, event_type), size = next(iter(sizes[sizes > top_k].items()))
        raise ValueError(
            f"{dataset} has {size} items for session {session} ({event_type}): "
            f"expected at most {top_k}"
        )


def session_scores(
    predictions: pd.DataFrame, labels: pd.DataFrame, top_k: int = 20
) -> pd.DataFrame:
    """Per labelled (session, event_type): ``hits``, ``labels`` (capped), ``reciprocal_rank``."""
    top = predictions.loc[predictions["rank"] <= top_k, ["session", "event_type", "item", "rank"]]
    matched = labels[["session", "event_type", "item"]].merge(
        top, on=["session", "event_type", "item"], how="left"
    )
    matched["hit"] = matched["rank"].notna()
    matched["reciprocal_rank"] = np.where(matched["hit"], 1.0 / matched["rank"], 0.0)
    grouped = matched.groupby(["session", "event_type"], as_index=False).agg(
        hits=("hit", "sum"), labels=("item", "size"), reciprocal_rank=("reciprocal_rank", "max")
    )
    grouped["labels"] = grouped["labels"].clip(upper=top_k)
    grouped["hits"] = np.minimum(grouped["hits"], grouped["labels"])
    return grouped


def summarise(scores: pd.DataFrame) -> dict[str, float]:
    """The five metrics from ``session_scores`` rows (NaN for a type without labels)."""
    result: dict[str, float] = {}
    for event_type in EVENT_TYPES:
        part = scores[scores["event_type"] == event_type]
        denominator = part["labels"].sum()
        result[f"recall_{event_type}"] = part["hits"].sum() / denominator if denominator else np.nan
    clicks = scores[scores["event_type"] == "clicks"]
    result["mrr_clicks"] = clicks["reciprocal_rank"].mean() if len(clicks) else np.nan
    result["score"] = sum(
        TYPE_WEIGHTS[t] * np.nan_to_num(result[f"recall_{t}"]) for t in EVENT_TYPES
    )
    return {metric: float(result[metric]) for metric in METRICS}


def length_bucket(n_events: pd.Series) -> pd.Series:
    """1, 2-4 or 5+ events in the session prefix."""
    return pd.cut(n_events, [0, 1, 4, np.inf], labels=LENGTH_BUCKETS).astype(str)

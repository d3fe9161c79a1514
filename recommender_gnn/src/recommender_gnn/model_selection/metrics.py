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


def event_type_codes(event_type: pd.Series) -> np.ndarray:
    """Each row's index in EVENT_TYPES (int8; -1 for any other value) without a string per
    row: at OTTO's size a table of candidates has 141 M rows."""
    if isinstance(event_type.dtype, pd.CategoricalDtype):
        codes, categories = event_type.cat.codes.to_numpy(), event_type.cat.categories
    else:
        codes, categories = pd.factorize(event_type)
    lookup = [EVENT_TYPES.index(c) if c in EVENT_TYPES else -1 for c in categories]
    return np.asarray([*lookup, -1], dtype=np.int8)[codes]


def _keys(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(session x event type, and that x item) as int64 keys: hash-free joins and checks on
    OTTO's 141 M test rows (item ids are int32)."""
    group = frame["session"].to_numpy(np.int64) * len(EVENT_TYPES)
    group += event_type_codes(frame["event_type"])
    return group, (group << 32) | frame["item"].to_numpy(np.int64)


def check_predictions(predictions: pd.DataFrame, dataset: str, top_k: int = 20) -> None:
    """Reject predictions that break the shared format, naming the dataset and the field."""
    require_columns(predictions, ["session", "event_type", "item", "rank"], dataset)
    unknown = event_type_codes(predictions["event_type"]) < 0
    if unknown.any():
        raise ValueError(
            f"{dataset} field 'event_type' holds {predictions['event_type'][unknown].iloc[0]!r}: "
            f"expected one of {EVENT_TYPES}"
        )
    group, key = _keys(predictions)
    order = np.argsort(key, kind="stable")
    key = key[order]
    repeated = order[1:][key[1:] == key[:-1]]  # later occurrences, in row order
    if repeated.size:
        row = predictions.iloc[int(repeated.min())]
        raise ValueError(
            f"{dataset} field 'item': item {row['item']} appears twice for session "
            f"{row['session']} ({row['event_type']}): expected distinct items"
        )
    del key, order
    groups, sizes = np.unique(group, return_counts=True)
    if (sizes > top_k).any():
        first = int(np.argmax(sizes > top_k))
        session, code = divmod(int(groups[first]), len(EVENT_TYPES))
        raise ValueError(
            f"{dataset} has {sizes[first]} items for session {session} "
            f"({EVENT_TYPES[code]}): expected at most {top_k}"
        )


def session_scores(
    predictions: pd.DataFrame, labels: pd.DataFrame, top_k: int = 20
) -> pd.DataFrame:
    """Per labelled (session, event_type): ``hits``, ``labels`` (capped), ``reciprocal_rank``.
    A label's rank is looked up by binary search in the sorted prediction keys."""
    top = predictions["rank"].to_numpy() <= top_k
    predicted = _keys(predictions)[1][top]
    rank = predictions["rank"].to_numpy()[top]
    order = np.argsort(predicted)
    predicted = predicted[order]
    label_group, label_key = _keys(labels)
    position = np.minimum(np.searchsorted(predicted, label_key), max(predicted.size - 1, 0))
    hit = predicted[position] == label_key if predicted.size else np.zeros(label_key.size, bool)
    label_rank = np.where(hit, rank[order[position]] if predicted.size else 1, 1).astype(float)
    grouped = (
        pd.DataFrame({"group": label_group, "hit": hit, "rr": np.where(hit, 1.0 / label_rank, 0.0)})
        .groupby("group", sort=True)
        .agg(hits=("hit", "sum"), labels=("hit", "size"), reciprocal_rank=("rr", "max"))
    )
    group = grouped.index.to_numpy()
    labels_capped = np.minimum(grouped["labels"].to_numpy(), top_k)
    return pd.DataFrame(
        {
            "session": group // len(EVENT_TYPES),
            "event_type": pd.Categorical.from_codes(group % len(EVENT_TYPES), EVENT_TYPES),
            "hits": np.minimum(grouped["hits"].to_numpy(), labels_capped),
            "labels": labels_capped,
            "reciprocal_rank": grouped["reciprocal_rank"].to_numpy(),
        }
    )


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

"""The shared predictions format and OTTO's metric, used for early stopping, the blend weight
and the registry's quality gate (model_evaluation reports the full metric table)."""

import numpy as np
import pandas as pd

EVENT_TYPES = ("clicks", "carts", "orders")
OTTO_WEIGHTS = {"clicks": 0.10, "carts": 0.30, "orders": 0.60}
PREDICTION_COLUMNS = ["session", "event_type", "item", "rank", "score"]


def predictions_frame(sessions: np.ndarray, items: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Predictions from ``[session, event type, k]`` top-k arrays (best first)."""
    n_sessions, n_types, k = items.shape
    return pd.DataFrame(
        {
            "session": np.repeat(np.asarray(sessions, dtype=np.int64), n_types * k),
            "event_type": np.tile(np.repeat(np.asarray(EVENT_TYPES[:n_types]), k), n_sessions),
            "item": items.reshape(-1).astype("int64"),
            "rank": np.tile(np.arange(1, k + 1), n_sessions * n_types).astype("int64"),
            "score": scores.reshape(-1).astype("float64"),
        }
    )


def otto_scores(predictions: pd.DataFrame, labels: pd.DataFrame, k: int = 20) -> dict[str, float]:
    """Recall@k per event type as OTTO defines it, and the weighted OTTO score.

    Per type: hits summed over sessions / min(k, number of labels) summed over sessions.
    """
    keys = ["session", "event_type", "item"]
    top = predictions.loc[predictions["rank"] <= k, keys].drop_duplicates()
    hit_counts = labels.merge(top, on=keys, how="inner").groupby("event_type").size()
    label_counts = (
        labels.groupby(["session", "event_type"]).size().clip(upper=k).groupby("event_type").sum()
    )
    result = {
        event_type: float(hit_counts.get(event_type, 0) / label_counts[event_type])
        if label_counts.get(event_type, 0)
        else 0.0
        for event_type in OTTO_WEIGHTS
    }
    result["score"] = sum(OTTO_WEIGHTS[name] * result[name] for name in OTTO_WEIGHTS)
    return result

"""The shared predictions format and OTTO's score by event type, used for early stopping,
the blend weight and the registry's quality gate (model_evaluation reports the full table)."""

import numpy as np
import pandas as pd

from recommender_gnn.model_selection.metrics import (
    EVENT_TYPES,
    session_scores,
    summarise,
)

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
    """Recall@k per event type (0 without labels) and the weighted OTTO score.

    Computed by model_evaluation's metric, so early stopping, the blend weight, the gate and
    the evaluation report cannot disagree on what the score is.
    """
    metrics = summarise(session_scores(predictions, labels, top_k=k))
    result = {name: float(np.nan_to_num(metrics[f"recall_{name}"])) for name in EVENT_TYPES}
    result["score"] = metrics["score"]
    return result

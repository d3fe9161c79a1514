"""SR-GNN candidates for the test and validation sessions: per session and event type the top
``top_k`` items not in the session (``recommend_gnn``, memory bounded by one item block).

The session's own items are not the model's business: the shared seen-item policy, chosen on
validation, adds them for every model alike.
"""

from typing import Any

import pandas as pd

from recommender_gnn.models.session_gnn.recommend import recommend_gnn


def predict_next_items(
    checkpoint: dict[str, Any], sessions: pd.DataFrame, params: dict[str, Any], dataset: str
) -> pd.DataFrame:
    """``recommend_gnn`` of ``sessions``; errors name ``dataset``."""
    return recommend_gnn(sessions, checkpoint, {**params, "dataset": dataset})


def predict_test_sessions(checkpoint, test_sessions, params):
    return predict_next_items(checkpoint, test_sessions, params, "test_sessions")


def predict_valid_sessions(checkpoint, valid_sessions, params):
    return predict_next_items(checkpoint, valid_sessions, params, "valid_sessions")

"""Score every item for every session prefix and keep the top 20 per event type (one head each).

Nothing is excluded by default: in OTTO a large share of next clicks, carts and orders are
items already seen in the session, so removing them would cost recall (``exclude_seen``
switches it on for catalogues where re-visits are rare). The ranking rule the model was
trained and early-stopped with (``model_training.session_items_first``) travels in the
checkpoint, so inference and the registered model rank exactly the same way.
"""

from typing import Any

import numpy as np
import pandas as pd
import torch

from recommender_gnn.pipelines.model_training.evaluation import predictions_frame
from recommender_gnn.pipelines.model_training.graphs import SessionEvents
from recommender_gnn.pipelines.model_training.model import select_device
from recommender_gnn.pipelines.model_training.nodes import load_model, rank_items


def predict_next_items(
    checkpoint: dict[str, Any], sessions: pd.DataFrame, params: dict[str, Any], dataset: str
) -> pd.DataFrame:
    """Top ``params.top_k`` items for every session in ``sessions`` (one graph per session)."""
    if params.get("num_threads"):
        torch.set_num_threads(int(params["num_threads"]))
    device = select_device(params["device"])
    model = load_model(checkpoint, device)
    events = SessionEvents(sessions, dataset)
    if events.items.size and events.items.max() >= model.n_items:
        raise ValueError(
            f"{dataset} has item {events.items.max()} but the model knows {model.n_items} items: "
            "were the sessions mapped with the item_map the model was trained on?"
        )
    # With exclusion, ask for more so that k remain after removing the session's own items.
    extra = int(events.lengths.max()) if params["exclude_seen"] and events.lengths.size else 0
    items, scores = rank_items(
        model, checkpoint, events, params["top_k"] + extra, params["batch_size"], device
    )
    if extra:
        items, scores = _drop_seen(events, items, scores, params["top_k"])
    return predictions_frame(events.sessions, items, scores)


def _drop_seen(events: SessionEvents, items, scores, k: int):
    session_of_event = np.repeat(np.arange(events.sessions.size), events.lengths)
    seen = pd.MultiIndex.from_arrays([session_of_event, events.items])
    rows = np.repeat(np.arange(items.shape[0]), items.shape[1] * items.shape[2])
    candidates = pd.MultiIndex.from_arrays([rows, items.reshape(-1)])
    keep = ~candidates.isin(seen).reshape(items.shape)
    order = np.argsort(~keep, axis=2, kind="stable")[:, :, :k]
    return np.take_along_axis(items, order, 2), np.take_along_axis(scores, order, 2)


def predict_test_sessions(checkpoint, test_sessions, params):
    return predict_next_items(checkpoint, test_sessions, params, "test_sessions")


def predict_valid_sessions(checkpoint, valid_sessions, params):
    return predict_next_items(checkpoint, valid_sessions, params, "valid_sessions")

"""The trained SR-GNN as one MLflow pyfunc model, and the gate that decides on the alias.

The pyfunc speaks OTTO's own ids (aids, event type names), not this run's item indices: a
champion registered by an earlier run, with another item map, can then be scored on this
run's validation split, which is what the quality gate compares.
"""

import logging
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import torch
from mlflow.models import infer_signature

from recommender_gnn.pipelines.model_training.evaluation import (
    EVENT_TYPES,
    otto_scores,
    predictions_frame,
)
from recommender_gnn.pipelines.model_training.graphs import SessionEvents
from recommender_gnn.pipelines.model_training.model import select_device
from recommender_gnn.pipelines.model_training.nodes import load_model, rank_items

logger = logging.getLogger(__name__)

INPUT_COLUMNS = ["session", "aid", "ts", "type"]


class SessionRecommender(mlflow.pyfunc.PythonModel):
    """Session events in (``session``, ``aid``, ``ts`` seconds, ``type`` name or 0/1/2), the top
    items per session and event type out (``session``, ``event_type``, ``aid``, ``rank``,
    ``score``). Aids the model never saw are ignored; a session with none of them gets no rows.
    """

    def __init__(self, checkpoint: dict[str, Any], aids: np.ndarray, top_k: int, batch_size: int):
        self.checkpoint = checkpoint
        self.aids = np.asarray(aids, dtype=np.int64)  # aids[item] = original aid
        self.top_k = top_k
        self.batch_size = batch_size
        self.signature = None
        self.input_example = None

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        missing = [column for column in INPUT_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(
                f"model input lacks column(s) {missing}; expected {INPUT_COLUMNS} "
                f"(type: clicks/carts/orders or 0/1/2); it has {sorted(frame.columns)}"
            )
        types = frame["type"]
        if not pd.api.types.is_numeric_dtype(types):
            types = types.map({name: code for code, name in enumerate(EVENT_TYPES)})
            if types.isna().any():
                raise ValueError("model input column 'type' must be clicks, carts or orders")
        items = pd.Index(self.aids).get_indexer(frame["aid"].astype("int64"))
        events = pd.DataFrame(
            {"session": frame["session"], "item": items, "ts": frame["ts"], "type": types}
        )[items >= 0]
        table = SessionEvents(events, "model input")
        device = select_device("auto")
        model = load_model(self.checkpoint, device)
        top, scores = rank_items(model, self.checkpoint, table, self.top_k, self.batch_size, device)
        predictions = predictions_frame(table.sessions, top, scores)
        predictions["item"] = self.aids[predictions["item"].to_numpy()]
        return predictions.rename(columns={"item": "aid"})


def sessions_with_aids(sessions: pd.DataFrame, item_map: pd.DataFrame) -> pd.DataFrame:
    """A session table in the model's input format (original aids, event type names)."""
    aids = item_map.set_index("item")["aid"]
    return pd.DataFrame(
        {
            "session": sessions["session"].to_numpy(dtype=np.int64),
            "aid": aids.reindex(sessions["item"]).to_numpy(dtype=np.int64),
            "ts": sessions["ts"].to_numpy(dtype=np.int64),
            "type": np.asarray(EVENT_TYPES)[sessions["type"].to_numpy(dtype=np.int64)],
        }
    )


def _aids_by_item(item_map: pd.DataFrame) -> np.ndarray:
    ordered = item_map.sort_values("item")
    if not np.array_equal(ordered["item"].to_numpy(), np.arange(len(ordered))):
        raise ValueError("item_map: column 'item' must hold every index 0..n_items-1 once")
    return ordered["aid"].to_numpy(dtype=np.int64)


def package_model(
    gnn_checkpoint: dict[str, Any],
    item_map: pd.DataFrame,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[SessionRecommender, dict[str, Any]]:
    """The pyfunc (with signature and a real input example) and its model card.

    The card's validation metrics come from the pyfunc itself on this run's validation split,
    exactly as the champion's are measured (``score_champion``): the gate compares like with like.
    """
    model = SessionRecommender(
        gnn_checkpoint, _aids_by_item(item_map), params["top_k"], params["batch_size"]
    )
    first = valid_sessions["session"].drop_duplicates().head(params["input_example_sessions"])
    example = sessions_with_aids(valid_sessions[valid_sessions["session"].isin(first)], item_map)
    with torch.no_grad():
        model.signature = infer_signature(example, model.predict(None, example))
    model.input_example = example
    card = {
        "model": "SR-GNN (PyTorch Geometric)",
        "config": gnn_checkpoint["config"],
        "best_epochs": gnn_checkpoint["best_epochs"],
        "n_training_pairs": gnn_checkpoint["n_training_pairs"],
        "n_items": len(item_map),
        "valid_metrics": _pyfunc_scores(
            lambda frame: model.predict(None, frame), valid_sessions, valid_labels, item_map
        ),
    }
    return model, card


def _pyfunc_scores(predict, valid_sessions, valid_labels, item_map) -> dict[str, float]:
    """OTTO scores of a pyfunc's answers (aids) on the validation split (item indices)."""
    predicted = predict(sessions_with_aids(valid_sessions, item_map))
    item_of_aid = item_map.set_index("aid")["item"]
    predicted = predicted[predicted["aid"].isin(item_of_aid.index)]
    predicted = predicted.assign(item=item_of_aid.reindex(predicted["aid"]).to_numpy())
    return otto_scores(predicted, valid_labels)


def score_champion(
    current_champion,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    item_map: pd.DataFrame,
) -> dict[str, Any]:
    """The current champion's OTTO scores on this run's validation split (version None: none)."""
    if current_champion is None:
        return {"version": None}
    predict = current_champion.model.predict
    return {
        "version": current_champion.version,
        **_pyfunc_scores(predict, valid_sessions, valid_labels, item_map),
    }


def decide_promotion(
    model_card: dict[str, Any],
    champion_scores: dict[str, Any],
    popularity_valid_predictions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    quality_gate: dict[str, Any],
) -> tuple[dict, dict]:
    """Promote only a model that beats popularity and is not worse than the champion.

    Both comparisons use this run's validation split. Returns the decision twice: for the alias
    dataset (which acts on it) and for the report (which keeps it).
    """
    metric = quality_gate["metric"]
    candidate = model_card["valid_metrics"][metric]
    popularity = otto_scores(popularity_valid_predictions, valid_labels)[metric]
    checks = {
        "uplift_over_popularity": {
            "value": candidate - popularity,
            "threshold": quality_gate["min_uplift_over_popularity"],
        },
    }
    if champion_scores.get("version") is not None:
        checks["uplift_over_champion"] = {
            "value": candidate - champion_scores[metric],
            "threshold": quality_gate["min_uplift_over_champion"],
            "champion_version": champion_scores["version"],
        }
    for check in checks.values():
        check["passed"] = bool(check["value"] >= check["threshold"])
    failed = [name for name, check in checks.items() if not check["passed"]]
    decision = {"promote": not failed, "metric": metric, "checks": checks, "failed_checks": failed}
    logger.info("Quality gate: %s", "passed" if not failed else f"failed on {failed}")
    return decision, decision

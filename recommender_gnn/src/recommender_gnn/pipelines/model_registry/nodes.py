"""The refit SR-GNN with its seen-item policy as one MLflow pyfunc, and the alias gate.

The pyfunc speaks OTTO's own ids (aids, event type names), not this run's item indices: a
champion registered by an earlier run, with another item map, can then be scored on this
run's validation split, which is what the gate compares. It answers exactly like the
pipeline: the GNN's new items, merged with the session's own items by the policy chosen on
validation, filled with trending items.
"""

import logging
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
import torch
from mlflow.models import infer_signature

from recommender_gnn.model_selection.metrics import EVENT_TYPES
from recommender_gnn.model_selection.policy import apply_seen_policy
from recommender_gnn.models.session_gnn.evaluation import otto_scores
from recommender_gnn.models.session_gnn.recommend import recommend_gnn
from recommender_gnn.pipelines.seen_items.nodes import policy_weights

logger = logging.getLogger(__name__)

INPUT_COLUMNS = ["session", "aid", "ts", "type"]
OUTPUT = {"session": "int64", "event_type": "object", "aid": "int64", "rank": "int64",
          "score": "float64"}  # fmt: skip
# What SessionRecommender pickles: raise it whenever its fields change. A model keeps the
# number it was packaged with (an instance field, never a class attribute, so a model pickled
# by older code has none) and this code refuses any other by name instead of failing inside
# predict with an AttributeError. 2: scoring settings packaged with the model.
FORMAT_VERSION = 2


class IncompatibleModelError(RuntimeError):
    """A registered model packaged by code with another SessionRecommender format."""


class SessionRecommender(mlflow.pyfunc.PythonModel):
    """Session events in (``session``, ``aid``, ``ts`` seconds, ``type`` name or 0/1/2), the top
    items per session and event type out (``session``, ``event_type``, ``aid``, ``rank``,
    ``score``). Aids the model never saw are ignored; a session with none of them gets no rows.
    """

    def __init__(
        self,
        checkpoint: dict[str, Any],
        aids: np.ndarray,
        policy: dict[str, Any],
        popular_items: pd.DataFrame,
        seen_items: dict[str, Any],
        scoring: dict[str, Any],
    ):
        self.checkpoint = checkpoint
        self.aids = np.asarray(aids, dtype=np.int64)  # aids[item] = original aid
        self.weights = policy_weights(policy)
        self.popular_items = popular_items[["event_type", "item", "rank"]].copy()
        self.seen_items = seen_items
        self.scoring = scoring
        self.format_version = FORMAT_VERSION

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        found = getattr(self, "format_version", None)
        if found != FORMAT_VERSION:
            raise IncompatibleModelError(
                f"This SessionRecommender was packaged in format {found or 'none (older code)'}"
                f"; this code reads format {FORMAT_VERSION}: package and register it again."
            )
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
        known = items >= 0
        events = pd.DataFrame(
            {
                "session": frame["session"].to_numpy(dtype=np.int64)[known],
                "item": items[known],
                "ts": frame["ts"].to_numpy(dtype=np.int64)[known],
                "type": types.to_numpy(dtype=np.int64)[known],
            }
        )
        if events.empty:
            return pd.DataFrame(
                {column: pd.Series(dtype=dtype) for column, dtype in OUTPUT.items()}
            )
        with torch.no_grad():
            candidates = recommend_gnn(events, self.checkpoint, self.scoring)
        predictions = apply_seen_policy(
            candidates, events, self.popular_items, self.weights, self.seen_items
        )
        return pd.DataFrame(
            {
                "session": predictions["session"].to_numpy(dtype=np.int64),
                "event_type": predictions["event_type"].astype(str).to_numpy(),
                "aid": self.aids[predictions["item"].to_numpy()],
                "rank": predictions["rank"].to_numpy(dtype=np.int64),
                "score": predictions["score"].to_numpy(dtype=np.float64),
            }
        )


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
    gnn_refit_checkpoint: dict[str, Any],
    gnn_best_params: dict[str, Any],
    gnn_seen_policy: dict[str, Any],
    refit_popular_items: pd.DataFrame,
    item_map: pd.DataFrame,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    params: dict[str, Any],
    selection: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pyfunc with a real input example and its signature (what SignedPyfuncModelDataset
    logs), and its model card.

    The card keeps the clean validation figures (the model fit before the validation week,
    ``gnn_seen_policy``) and, for the champion comparison, the packaged (refit) model's own
    answers on this run's validation split, measured like the champion's (``score_champion``).
    """
    scoring = {**params["scoring"], "device": "auto"}
    model = SessionRecommender(
        gnn_refit_checkpoint,
        _aids_by_item(item_map),
        gnn_seen_policy,
        refit_popular_items,
        selection["seen_items"],
        scoring,
    )
    first = valid_sessions["session"].drop_duplicates().head(params["input_example_sessions"])
    example = sessions_with_aids(valid_sessions[valid_sessions["session"].isin(first)], item_map)
    signature = infer_signature(example, model.predict(None, example))
    searched = set(gnn_best_params.get("search_space") or {})
    card = {
        "model": "SR-GNN (Wu et al. 2019) with one readout per OTTO event type, PyG",
        "config": gnn_refit_checkpoint["config"],
        "tuned_params": {name: gnn_best_params[name] for name in sorted(searched)},
        "refit_epochs": gnn_refit_checkpoint.get("best_epochs"),
        "seen_item_policy": gnn_seen_policy["weights"],
        "n_items": len(item_map),
        "valid_metrics_before_refit": gnn_seen_policy["valid"],
        "valid_metrics_packaged": _pyfunc_scores(
            lambda frame: model.predict(None, frame), valid_sessions, valid_labels, item_map
        ),
    }
    return {"python_model": model, "input_example": example, "signature": signature}, card


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
    """The current champion's OTTO scores on this run's validation split (version None: none).

    A champion packaged in another format stops the run (``require_current_format``): the
    gate never promotes without comparing with the champion it would replace.
    """
    if current_champion is None:
        return {"version": None}
    require_current_format(current_champion)
    predict = current_champion.model.predict
    return {
        "version": current_champion.version,
        **_pyfunc_scores(predict, valid_sessions, valid_labels, item_map),
    }


def require_current_format(registered) -> None:
    """Refuse a registered model packaged by code with another SessionRecommender format,
    naming it and saying how to get past it (its pickle would fail inside predict)."""
    found = getattr(registered.model.unwrap_python_model(), "format_version", None)
    if found == FORMAT_VERSION:
        return
    raise IncompatibleModelError(
        f"Registered model '{registered.name}' version {registered.version} (alias "
        f"'{registered.alias}', registry {mlflow.get_tracking_uri()}) was packaged in "
        f"SessionRecommender format {found or 'none (older code)'}; this code expects format "
        f"{FORMAT_VERSION} and cannot score it, so the gate cannot compare with it. Point "
        f"'{registered.alias}' at a version packaged by this code, or remove the alias "
        f"(mlflow.MlflowClient().delete_registered_model_alias('{registered.name}', "
        f"'{registered.alias}')) so the next training run is gated on the baselines alone; "
        "locally a stale registry can simply be deleted (mlflow.db and mlruns/ of the "
        "project folder). Then run training again."
    )


def decide_promotion(
    model_card: dict[str, Any],
    champion_scores: dict[str, Any],
    selection_report: dict[str, Any],
    quality_gate: dict[str, Any],
) -> tuple[dict, dict]:
    """Promote the GNN only if it beats the strongest baseline and is not worse than the champion.

    The baseline comparison uses the clean validation scores (every model fit before the
    validation week); the champion comparison scores both packaged models the same way on this
    run's validation split. Returns the decision twice: for the alias dataset (which acts on
    it) and for the report (which keeps it).
    """
    strongest = selection_report["strongest_baseline"]
    scores = selection_report["valid_scores"]
    checks = {
        "uplift_over_best_baseline": {
            "value": scores["gnn"] - scores[strongest],
            "threshold": quality_gate["min_uplift_over_best_baseline"],
            "baseline": strongest,
        },
    }
    if champion_scores.get("version") is not None:
        metric = quality_gate["metric"]
        checks["uplift_over_champion"] = {
            "value": model_card["valid_metrics_packaged"][metric] - champion_scores[metric],
            "threshold": quality_gate["min_uplift_over_champion"],
            "champion_version": champion_scores["version"],
        }
    for check in checks.values():
        check["passed"] = bool(check["value"] >= check["threshold"])
    failed = [name for name, check in checks.items() if not check["passed"]]
    decision = {"promote": not failed, "checks": checks, "failed_checks": failed}
    logger.info("Quality gate: %s", "passed" if not failed else f"failed on {failed}")
    return decision, decision

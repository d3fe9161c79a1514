"""Package the refit banking LightGBM as a pyfunc (``serving.BankingRecommender``), register
it, and let a quality gate decide on its alias: the OTTO registry's shape
(pipelines/model_registry), on the banking report.

The gate promotes the model only if its validation MAP@k (the tuned model, fit before May
2016: ``banking_model_scores``) beats the strongest baseline's (popularity) by
``min_uplift_over_best_baseline``, and the packaged (refit) model, re-scored on this run's
validation month, is not worse than the current champion re-scored the same way by more than
``min_uplift_over_champion``. Both comparisons give every customer of the month a ranking
(popularity for those absent from April 2016), as the report does.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from ..banking_data.contract import PRODUCTS, VALIDATION_MONTH, added_products
from ..banking_data.generator import SHORT
from ..banking_data.metrics import map_at_k
from .evaluation import with_fallback
from .features import category_vocabulary, feature_names
from .nodes import BASELINES  # what a model must beat (not the oracle, the GNN or the blend)
from .serving import BankingRecommender

logger = logging.getLogger(__name__)

MODEL = "lightgbm"  # the report's row of the registered model


def validation_map(predict, candidates: pd.DataFrame, train: pd.DataFrame, k: int) -> float:
    """MAP@k on the validation month of a pyfunc's answers to ``candidates`` (popularity for
    the month's customers it does not rank)."""
    customers = train.loc[train["month"] == VALIDATION_MONTH, "customer"].to_numpy()
    ranked = predict(candidates)
    ranked = with_fallback(ranked, train, VALIDATION_MONTH, customers, k)
    truth = added_products(train).query("month == @VALIDATION_MONTH")
    return float(map_at_k(ranked, truth, customers, k)["map_all"])


def request_frame(candidates: pd.DataFrame, features: dict[str, Any]) -> pd.DataFrame:
    """Candidate feature rows as the registered model takes them: ``customer`` (int64) and the
    features as float64 (what a JSON request parses to; float32 would refuse it)."""
    names = feature_names(features)
    frame = candidates[names].astype("float64")
    frame.insert(0, "customer", candidates["customer"].to_numpy(dtype=np.int64))
    return frame


def package_banking_model(
    booster,
    chosen: dict[str, Any],
    candidates: pd.DataFrame,
    train: pd.DataFrame,
    params: dict[str, Any],
    registry: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pyfunc with a real input example (validation candidates) and its signature, for
    SignedPyfuncModelDataset, and its model card (with the packaged model's validation MAP@k,
    measured as ``score_banking_champion`` measures the champion)."""
    features, k = params["features"], int(params["k"])
    model = BankingRecommender(
        booster,
        feature_names(features),
        PRODUCTS,
        [f"lag1_{short}" for short in SHORT],
        category_vocabulary(train, list(features["categorical_attributes"])),
        k,
    )
    example = request_frame(candidates.head(int(registry["input_example_customers"])), features)
    signature = infer_signature(example, model.predict(None, example))
    card = {
        "model": "LightGBM multiclass over the 24 Santander products, lag features",
        "k": k,
        "features": features,
        "chosen_params": chosen,
        "valid_map_all_packaged": validation_map(
            lambda frame: model.predict(None, frame), request_frame(candidates, features), train, k
        ),
    }
    return {"python_model": model, "input_example": example, "signature": signature}, card


def score_banking_champion(
    current_champion, candidates: pd.DataFrame, train: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any]:
    """The current champion's validation MAP@k on this run's validation month (version None:
    no champion yet)."""
    if current_champion is None:
        return {"version": None}
    value = validation_map(
        current_champion.model.predict,
        request_frame(candidates, params["features"]),
        train,
        int(params["k"]),
    )
    logger.info("banking champion version %s: validation MAP@%s %.5f",
                current_champion.version, params["k"], value)  # fmt: skip
    return {"version": current_champion.version, "map_all": value}


def decide_banking_promotion(
    model_card: dict[str, Any],
    champion_scores: dict[str, Any],
    scores: pd.DataFrame,
    quality_gate: dict[str, Any],
) -> tuple[dict, dict]:
    """Promote the model only if it beats the strongest baseline and is not worse than the
    champion (module docstring). Returns the decision twice: for the alias dataset (which acts
    on it) and for the report (which keeps it)."""
    valid = scores[scores["split"] == "validation"].set_index("model")["map_all"]
    baselines = valid[[name for name in BASELINES if name in valid.index]]
    strongest = str(baselines.idxmax())
    checks = {
        "uplift_over_best_baseline": {
            "value": float(valid[MODEL] - baselines[strongest]),
            "threshold": float(quality_gate["min_uplift_over_best_baseline"]),
            "baseline": strongest,
        },
    }
    if champion_scores.get("version") is not None:
        checks["uplift_over_champion"] = {
            "value": float(model_card["valid_map_all_packaged"] - champion_scores["map_all"]),
            "threshold": float(quality_gate["min_uplift_over_champion"]),
            "champion_version": champion_scores["version"],
        }
    for check in checks.values():
        check["passed"] = bool(np.float64(check["value"]) >= check["threshold"])
    failed = [name for name, check in checks.items() if not check["passed"]]
    decision = {"promote": not failed, "checks": checks, "failed_checks": failed}
    logger.info("banking quality gate: %s", "passed" if not failed else f"failed on {failed}")
    return decision, decision

"""The quality gate: promote the new model only if it is not worse than what it replaces.

The first model is compared with the baseline; every later one with the current champion,
both scored on this run's test split (a champion's own test figures come from another
period and cannot be compared). Calibration is gated relative to the base rate: an ECE of
0.05 at a 2% base rate means probabilities off by a factor of three.
"""

import logging
from typing import Any

import pandas as pd

from ga4_mlops.datasets.mlflow_model_alias_dataset import RegisteredModel
from ga4_mlops.pipelines.model_evaluation.nodes import classification_metrics

logger = logging.getLogger(__name__)

COMPARED = ("roc_auc", "log_loss", "ece", "base_rate")


def _metrics_of(evaluation_metrics: pd.DataFrame, model: str) -> dict[str, float]:
    table = evaluation_metrics.set_index("model")
    if model not in table.index:
        raise ValueError(
            f"dataset 'evaluation_metrics' has no model '{model}' (params model_registry."
            f"quality_gate names it); it has {sorted(table.index)}"
        )
    return {metric: float(table.loc[model, metric]) for metric in COMPARED}


def score_champion(
    champion: RegisteredModel,
    test_set: pd.DataFrame,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
) -> dict[str, float]:
    """The champion's metrics on this run's test split (its calibrated probability)."""
    features = [*columns["numeric"], *columns["categorical"]]
    try:
        scores = champion.model.predict(test_set[features])["calibrated_probability"]
    except Exception as error:
        raise ValueError(
            f"champion {champion.name} version {champion.version} cannot score this run's "
            f"test split ({error}); a model for another problem needs its own registered "
            "name (globals registered_model.name)"
        ) from error
    metrics = classification_metrics(
        test_set[columns["target"]].to_numpy(dtype="int64"),
        scores.to_numpy(dtype="float64"),
        top_fractions=(),
        n_bins=evaluation["n_bins"],
        strategy=evaluation["calibration_strategy"],
    )
    return {metric: float(metrics[metric]) for metric in COMPARED}


def _check(value: float, threshold: float, passed: bool) -> dict[str, Any]:
    return {"value": value, "threshold": threshold, "passed": bool(passed)}


def decide_promotion(
    evaluation_metrics: pd.DataFrame,
    test_set: pd.DataFrame,
    previous_champion: RegisteredModel | None,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
    quality_gate: dict[str, Any],
) -> dict[str, Any]:
    """The decision, with the figures of both models it compared and every check."""
    candidate = _metrics_of(evaluation_metrics, quality_gate["candidate"])
    checks = {
        "roc_auc": _check(
            candidate["roc_auc"],
            quality_gate["min_roc_auc"],
            candidate["roc_auc"] >= quality_gate["min_roc_auc"],
        ),
        "ece_over_base_rate": _check(
            candidate["ece"] / candidate["base_rate"],
            quality_gate["max_ece_over_base_rate"],
            candidate["ece"] / candidate["base_rate"] <= quality_gate["max_ece_over_base_rate"],
        ),
    }
    if previous_champion is None:
        against = {"model": quality_gate["baseline"], "version": None}
        against["metrics"] = _metrics_of(evaluation_metrics, quality_gate["baseline"])
        uplift = candidate["roc_auc"] - against["metrics"]["roc_auc"]
        minimum = quality_gate["min_roc_auc_uplift_over_baseline"]
        checks["roc_auc_uplift_over_baseline"] = _check(uplift, minimum, uplift >= minimum)
    else:
        against = {"model": "champion", "version": previous_champion.version}
        against["metrics"] = score_champion(previous_champion, test_set, columns, evaluation)
        drop = against["metrics"]["roc_auc"] - candidate["roc_auc"]
        allowed = quality_gate["max_roc_auc_drop_vs_champion"]
        checks["roc_auc_drop_vs_champion"] = _check(drop, allowed, drop <= allowed)
        rise = candidate["log_loss"] / against["metrics"]["log_loss"] - 1
        allowed = quality_gate["max_log_loss_rise_vs_champion"]
        checks["log_loss_rise_vs_champion"] = _check(rise, allowed, rise <= allowed)
    failed = [name for name, check in checks.items() if not check["passed"]]
    logger.info(
        "Quality gate against %s%s: %s",
        against["model"],
        f" version {against['version']}" if against["version"] else "",
        "passed" if not failed else f"failed on {failed}",
    )
    return {
        "promote": not failed,
        "compared_with": against,
        "candidate": {"model": quality_gate["candidate"], "metrics": candidate},
        "checks": checks,
        "failed_checks": failed,
    }


def apply_promotion(
    model_card: dict[str, Any], drift_reference_summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Hand the card's decision to the alias dataset, once the model is registered and its
    drift references are logged (the summary is only a dependency: monitoring reads the
    references from the run behind the alias, so they must exist before it moves)."""
    return model_card["promotion"]

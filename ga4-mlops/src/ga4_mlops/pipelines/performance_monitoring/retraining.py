"""Decide whether to retrain, from drift alerts and realized-performance decay.

The decision is a record (dataset + MLflow tags) that a scheduler acts on by starting a
``training`` run; this node never touches the registry, so the champion stays the champion
until a new version passes the quality gate of a training run.

Decay rules by what an evaluated as-of date reports: binary (ROC-AUC and PR-AUC drops, ECE),
regression / predicted revenue (normalized Gini drop, |total relative error|), multiclass (log
loss rise, macro ECE). Each type's thresholds are read only for its entries, so a binary
configuration needs none of the others'.
"""

import logging
from typing import Any

logger = logging.getLogger(__name__)


def _threshold(thresholds: dict[str, Any], key: str, kind: str = "regression") -> float:
    if key not in thresholds:
        where = (
            "conf/revenue/parameters_registry_and_monitoring.yml"
            if kind == "regression"
            else (f"conf/{kind}/parameters_{kind}.yml")
        )
        raise ValueError(
            f"params retraining.decay.{key} is missing: the realized performance of a "
            f"{kind} model is judged by it ({where} sets it)"
        )
    return float(thresholds[key])


def _decayed(entry: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """The decay checks one evaluated as-of date fails."""
    failed = []
    if (
        entry.get("roc_auc_change") is not None
        and entry["roc_auc_change"] < -thresholds["max_roc_auc_drop"]
    ):
        failed.append(f"ROC-AUC {entry['roc_auc_change']:+.3f} vs test")
    if (
        entry.get("pr_auc_change") is not None
        and entry["pr_auc_change"] < -thresholds["max_pr_auc_drop"]
    ):
        failed.append(f"PR-AUC {entry['pr_auc_change']:+.3f} vs test")
    if entry.get("ece") is not None and entry["ece"] > thresholds["max_ece"]:
        failed.append(f"ECE {entry['ece']:.4f} > {thresholds['max_ece']}")
    if entry.get("normalized_gini_change") is not None:
        allowed = _threshold(thresholds, "max_normalized_gini_drop")
        if entry["normalized_gini_change"] < -allowed:
            failed.append(f"normalized Gini {entry['normalized_gini_change']:+.3f} vs test")
    if entry.get("total_relative_error") is not None:
        allowed = _threshold(thresholds, "max_abs_total_relative_error")
        if abs(entry["total_relative_error"]) > allowed:
            failed.append(
                f"|total relative error| {abs(entry['total_relative_error']):.3f} > {allowed}"
            )
    if entry.get("log_loss_change") is not None:
        allowed = _threshold(thresholds, "max_log_loss_rise", "multiclass")
        if entry["log_loss_change"] > allowed:
            failed.append(f"log loss {entry['log_loss_change']:+.4f} vs test")
    if entry.get("macro_ece") is not None:
        allowed = _threshold(thresholds, "max_macro_ece", "multiclass")
        if entry["macro_ece"] > allowed:
            failed.append(f"macro ECE {entry['macro_ece']:.4f} > {allowed}")
    return failed


def decide_retraining(
    drift_summary: dict[str, Any], performance_summary: dict[str, Any], params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Retrain when drift alerts reach ``min_drift_alerts`` features, or when realized
    performance decayed on each of the last ``decay_weeks`` evaluated as-of dates.

    Returns the decision (with every reason) and the MLflow tags that record it.
    """
    reasons = []
    alerts = list(drift_summary.get("alert_features", []))
    if len(alerts) >= params["min_drift_alerts"]:
        reasons.append(
            f"drift alert on {len(alerts)} feature(s) (min_drift_alerts "
            f"{params['min_drift_alerts']}): {', '.join(alerts)}"
        )
    history = performance_summary.get("history", [])
    weeks = int(params["decay_weeks"])
    recent = history[-weeks:]
    decays = {entry["as_of_date"]: _decayed(entry, params["decay"]) for entry in recent}
    if len(recent) == weeks and all(decays.values()):
        details = "; ".join(f"{day}: {', '.join(failed)}" for day, failed in decays.items())
        reasons.append(
            f"realized performance decayed on the last {weeks} evaluated week(s): {details}"
        )
    decision = {
        "retrain": bool(reasons),
        "reasons": reasons,
        "drift_alert_features": alerts,
        "performance_status": performance_summary.get("status"),
        "evaluated_as_of_dates": [entry["as_of_date"] for entry in history],
        "champion": "unchanged: only a training run whose new version passes the quality gate "
        "moves the alias",
    }
    if reasons:
        logger.warning("Retraining advised: %s", " | ".join(reasons))
    else:
        logger.info(
            "No retraining needed (drift alerts: %s, performance: %s)",
            alerts or "none",
            decision["performance_status"],
        )
    tags = {
        "decision": "retrain" if reasons else "keep",
        "reasons": " | ".join(reasons) or "none",
    }
    return decision, tags

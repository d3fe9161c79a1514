"""The quality gate: promote the new model only if it is not worse than what it replaces.

The first model is compared with the baseline; every later one with the current champion,
both scored on this run's test split (a champion's own test figures come from another
period and cannot be compared). Calibration is gated relative to the base rate: an ECE of
0.05 at a 2% base rate means probabilities off by a factor of three.

``problem_type`` ``regression`` (predicted revenue) has checks of its own, on
``regression_report``'s figures, under settings named apart from binary's: the candidate's
normalized Gini (ranking the spenders) and its total (|total relative error|), the Gini
uplift over the baseline for the first model, and for later ones the Gini drop and the
relative RMSE rise against the champion scored on this run's test split. ``multiclass`` is
gated on multiclass log loss: its relative improvement over the baseline for the first
model, its relative rise against the champion for later ones.
"""

import logging
from typing import Any

import pandas as pd

from ga4_mlops.datasets.mlflow_model_alias_dataset import RegisteredModel
from ga4_mlops.pipelines.model_evaluation.multiclass_metrics import multiclass_report
from ga4_mlops.pipelines.model_evaluation.nodes import classification_metrics
from ga4_mlops.pipelines.model_evaluation.regression_metrics import regression_report
from ga4_mlops.problem_types import (
    BINARY,
    MULTICLASS,
    class_labels,
    class_score_columns,
    problem_type,
    score_column,
    target_values,
)

logger = logging.getLogger(__name__)

COMPARED = ("roc_auc", "log_loss", "ece", "base_rate")
# Regression: columns of regression_report (model_evaluation/regression_metrics.py).
REGRESSION_COMPARED = (
    "normalized_gini",
    "rmse",
    "mae",
    "total_relative_error",
    "decile_calibration_error",
    "mean_predicted",
    "mean_actual",
)


# Multiclass: columns of multiclass_report (model_evaluation/multiclass_metrics.py).
MULTICLASS_COMPARED = ("log_loss", "top_1_accuracy", "top_3_accuracy")


def _compared(kind: str) -> tuple[str, ...]:
    return {BINARY: COMPARED, MULTICLASS: MULTICLASS_COMPARED}.get(kind, REGRESSION_COMPARED)


def _metrics_of(
    evaluation_metrics: pd.DataFrame, model: str, compared: tuple[str, ...] = COMPARED
) -> dict[str, float]:
    table = evaluation_metrics.set_index("model")
    if model not in table.index:
        raise ValueError(
            f"dataset 'evaluation_metrics' has no model '{model}' (params model_registry."
            f"quality_gate names it); it has {sorted(table.index)}"
        )
    missing = [metric for metric in compared if metric not in table.columns]
    if missing:
        raise ValueError(
            f"dataset 'evaluation_metrics' lacks the column(s) {missing} the quality gate "
            f"compares; it has {sorted(table.columns)} (is params model_input.columns."
            "problem_type the one the models were evaluated for?)"
        )
    return {metric: float(table.loc[model, metric]) for metric in compared}


def score_champion(
    champion: RegisteredModel,
    test_set: pd.DataFrame,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
) -> dict[str, float]:
    """The champion's metrics on this run's test split (its calibrated score: the
    probability, or for regression the prediction)."""
    kind = problem_type(columns)
    features = [*columns["numeric"], *columns["categorical"]]
    served = (
        class_score_columns("calibrated", columns)
        if kind == MULTICLASS
        else score_column("calibrated", kind)
    )
    try:
        scores = champion.model.predict(test_set[features])[served]
    except Exception as error:
        raise ValueError(
            f"champion {champion.name} version {champion.version} cannot score this run's "
            f"test split ({error}); a model for another problem needs its own registered "
            "name (globals registered_model.name)"
        ) from error
    if kind == MULTICLASS:
        report = multiclass_report(
            target_values(test_set, columns),
            {"champion": scores.to_numpy(dtype="float64")},
            class_labels(columns),
            n_bins=evaluation["n_bins"],
            strategy=evaluation["calibration_strategy"],
        )
        return {metric: float(report.loc[0, metric]) for metric in MULTICLASS_COMPARED}
    if kind != BINARY:
        report = regression_report(
            target_values(test_set, columns),
            {"champion": scores.to_numpy(dtype="float64")},
            n_bins=evaluation["n_bins"],
        )
        return {metric: float(report.loc[0, metric]) for metric in REGRESSION_COMPARED}
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
    kind = problem_type(columns)
    candidate = _metrics_of(evaluation_metrics, quality_gate["candidate"], _compared(kind))
    checks_of = {BINARY: _binary_checks, MULTICLASS: _multiclass_checks}.get(
        kind, _regression_checks
    )
    checks, against = checks_of(
        candidate,
        evaluation_metrics,
        test_set,
        previous_champion,
        columns,
        evaluation,
        quality_gate,
    )
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


def _binary_checks(
    candidate: dict[str, float],
    evaluation_metrics: pd.DataFrame,
    test_set: pd.DataFrame,
    previous_champion: RegisteredModel | None,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
    quality_gate: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """ROC-AUC, ECE / base rate; AUC uplift over the baseline, or AUC drop and log-loss rise
    against the champion."""
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
    return checks, against


# Where each problem type's shipped environment sets its gate.
GATE_SETTINGS_FILE = {
    "regression": "conf/revenue/parameters_registry_and_monitoring.yml",
    MULTICLASS: "conf/multiclass/parameters_multiclass.yml",
}


def _setting(quality_gate: dict[str, Any], key: str, kind: str = "regression") -> float:
    if key not in quality_gate:
        raise ValueError(
            f"params model_registry.quality_gate.{key} is missing: the {kind} quality gate "
            f"needs it ({GATE_SETTINGS_FILE[kind]} sets it)"
        )
    return float(quality_gate[key])


def _multiclass_checks(
    candidate: dict[str, float],
    evaluation_metrics: pd.DataFrame,
    test_set: pd.DataFrame,
    previous_champion: RegisteredModel | None,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
    quality_gate: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Log loss: relative improvement over the baseline, or relative rise against the
    champion scored on this run's test split (accuracy is dominated by the largest class)."""
    if previous_champion is None:
        against = {"model": quality_gate["baseline"], "version": None}
        against["metrics"] = _metrics_of(
            evaluation_metrics, quality_gate["baseline"], MULTICLASS_COMPARED
        )
        gain = 1 - candidate["log_loss"] / against["metrics"]["log_loss"]
        minimum = _setting(quality_gate, "min_log_loss_improvement_over_baseline", MULTICLASS)
        checks = {"log_loss_improvement_over_baseline": _check(gain, minimum, gain >= minimum)}
    else:
        against = {"model": "champion", "version": previous_champion.version}
        against["metrics"] = score_champion(previous_champion, test_set, columns, evaluation)
        rise = candidate["log_loss"] / against["metrics"]["log_loss"] - 1
        allowed = _setting(quality_gate, "max_log_loss_rise_vs_champion", MULTICLASS)
        checks = {"log_loss_rise_vs_champion": _check(rise, allowed, rise <= allowed)}
    return checks, against


def _regression_checks(
    candidate: dict[str, float],
    evaluation_metrics: pd.DataFrame,
    test_set: pd.DataFrame,
    previous_champion: RegisteredModel | None,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
    quality_gate: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Normalized Gini, |total relative error|; Gini uplift over the baseline, or Gini drop
    and relative RMSE rise against the champion scored on this run's test split."""
    gini, total_error = candidate["normalized_gini"], abs(candidate["total_relative_error"])
    minimum = _setting(quality_gate, "min_normalized_gini")
    maximum = _setting(quality_gate, "max_abs_total_relative_error")
    checks = {
        "normalized_gini": _check(gini, minimum, gini >= minimum),
        "abs_total_relative_error": _check(total_error, maximum, total_error <= maximum),
    }
    if previous_champion is None:
        against = {"model": quality_gate["baseline"], "version": None}
        against["metrics"] = _metrics_of(
            evaluation_metrics, quality_gate["baseline"], REGRESSION_COMPARED
        )
        uplift = gini - against["metrics"]["normalized_gini"]
        minimum = _setting(quality_gate, "min_normalized_gini_uplift_over_baseline")
        checks["normalized_gini_uplift_over_baseline"] = _check(uplift, minimum, uplift >= minimum)
    else:
        against = {"model": "champion", "version": previous_champion.version}
        against["metrics"] = score_champion(previous_champion, test_set, columns, evaluation)
        drop = against["metrics"]["normalized_gini"] - gini
        allowed = _setting(quality_gate, "max_normalized_gini_drop_vs_champion")
        checks["normalized_gini_drop_vs_champion"] = _check(drop, allowed, drop <= allowed)
        rise = candidate["rmse"] / against["metrics"]["rmse"] - 1
        allowed = _setting(quality_gate, "max_rmse_rise_vs_champion")
        checks["rmse_rise_vs_champion"] = _check(rise, allowed, rise <= allowed)
    return checks, against


def apply_promotion(
    model_card: dict[str, Any], drift_reference_summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Hand the card's decision to the alias dataset, once the model is registered and its
    drift references are logged (the summary is only a dependency: monitoring reads the
    references from the run behind the alias, so they must exist before it moves)."""
    return model_card["promotion"]

"""Score the test split with the generator's true probabilities: the oracle.

Only synthetic data has an oracle, so this pipeline runs in ``__default__`` and not in
``end_to_end`` (the path for real exports). With ``problem_type: regression`` the oracle is
the generator's exact expected revenue over the horizon (``oracle_expected_revenue``) and the
models are compared with it through ``regression_report``; with ``multiclass`` it is the exact
probability of each class of the next purchase's category (``oracle_class_probabilities``),
compared through ``multiclass_report``.
"""

from typing import Any

import pandas as pd

from ga4_mlops.pipelines.data_generation.nodes import (
    oracle_class_probabilities,
    oracle_expected_revenue,
    oracle_probabilities,
)
from ga4_mlops.pipelines.model_evaluation.multiclass_metrics import (
    DEFAULT_TOP_K,
    multiclass_report,
)
from ga4_mlops.pipelines.model_evaluation.multiclass_nodes import probabilities_by_model
from ga4_mlops.pipelines.model_evaluation.nodes import classification_metrics
from ga4_mlops.pipelines.model_evaluation.regression_metrics import (
    regression_report,
    report_mlflow_metrics,
)
from ga4_mlops.problem_types import (
    MULTICLASS,
    REGRESSION,
    class_labels,
    problem_type,
    target_values,
)

KEYS = ["user_pseudo_id", "snapshot_date"]
# Logged to MLflow per model for regression (all columns stay in the table).
REGRESSION_MLFLOW_METRICS = (
    "rmse",
    "normalized_gini",
    "total_relative_error",
    "normalized_gini_gap_to_oracle",
)


def benchmark_revenue_against_oracle(
    ga4_user_truth: pd.DataFrame,
    test_predictions: pd.DataFrame,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """``regression_report`` of the oracle's expected revenue and of each evaluated model on
    the same test rows (``n_bins`` deciles as model_evaluation), plus each one's
    ``normalized_gini_gap_to_oracle`` (oracle's normalized Gini minus its own)."""
    oracle = oracle_expected_revenue(
        ga4_user_truth, test_predictions[KEYS], horizon_days=params["horizon_days"]
    )
    predictions = {
        "oracle": oracle.to_numpy(),
        **{
            name: test_predictions[column].to_numpy(dtype="float64")
            for name, column in evaluation["models"].items()
        },
    }
    table = regression_report(
        target_values(test_predictions, columns), predictions, n_bins=evaluation["n_bins"]
    )
    table["normalized_gini_gap_to_oracle"] = (
        table.loc[table["model"] == "oracle", "normalized_gini"].iloc[0] - table["normalized_gini"]
    )
    return table, report_mlflow_metrics(table, REGRESSION_MLFLOW_METRICS)


def benchmark_classes_against_oracle(
    ga4_user_truth: pd.DataFrame,
    test_predictions: pd.DataFrame,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """``multiclass_report`` of the oracle's class probabilities and of each evaluated model
    (``evaluation.models``: name -> role prefix of its class columns) on the same test rows,
    plus each one's ``log_loss_gap_to_oracle`` (its log loss minus the oracle's: the excess
    loss no model can remove is the oracle's own)."""
    codes, probabilities = probabilities_by_model(test_predictions, columns, evaluation["models"])
    oracle = oracle_class_probabilities(
        ga4_user_truth, test_predictions[KEYS], params["horizon_days"], columns
    )
    top_k = tuple(evaluation.get("top_k", DEFAULT_TOP_K))
    table = multiclass_report(
        codes,
        {"oracle": oracle.to_numpy(), **probabilities},
        class_labels(columns),
        top_k=top_k,
        n_bins=evaluation["n_bins"],
        strategy=evaluation["calibration_strategy"],
    )
    table["log_loss_gap_to_oracle"] = (
        table["log_loss"] - table.loc[table["model"] == "oracle", "log_loss"].iloc[0]
    )
    metrics = ("log_loss", *(f"top_{k}_accuracy" for k in top_k), "log_loss_gap_to_oracle")
    return table, report_mlflow_metrics(table, metrics)


def benchmark_against_oracle(
    ga4_user_truth: pd.DataFrame,
    test_predictions: pd.DataFrame,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Metrics of the oracle and of each evaluated model on the same test rows, computed
    exactly as model_evaluation computes them (its models and metric settings).

    Regression: ``benchmark_revenue_against_oracle``; multiclass:
    ``benchmark_classes_against_oracle``."""
    if problem_type(columns) == MULTICLASS:
        return benchmark_classes_against_oracle(
            ga4_user_truth, test_predictions, columns, evaluation, params
        )
    if problem_type(columns) == REGRESSION:
        return benchmark_revenue_against_oracle(
            ga4_user_truth, test_predictions, columns, evaluation, params
        )
    target = test_predictions[columns["target"]].to_numpy()
    scores = {
        "oracle": oracle_probabilities(
            ga4_user_truth,
            test_predictions[KEYS],
            horizon_days=params["horizon_days"],
            target_event=params["target_event"],
        ).to_numpy(),
        **{
            name: test_predictions[column].to_numpy()
            for name, column in evaluation["models"].items()
        },
    }
    table = pd.DataFrame(
        [
            {
                "model": name,
                **classification_metrics(
                    target,
                    score,
                    top_fractions=evaluation["top_fractions"],
                    n_bins=evaluation["n_bins"],
                    strategy=evaluation["calibration_strategy"],
                ),
            }
            for name, score in scores.items()
        ]
    )
    table["roc_auc_gap_to_oracle"] = (
        table.loc[table["model"] == "oracle", "roc_auc"].iloc[0] - table["roc_auc"]
    )
    mlflow_metrics = {
        f"{row.model}.{metric}": {"value": float(getattr(row, metric)), "step": 0}
        for row in table.itertuples()
        for metric in ("roc_auc", "pr_auc", "ece", "roc_auc_gap_to_oracle")
    }
    return table, mlflow_metrics

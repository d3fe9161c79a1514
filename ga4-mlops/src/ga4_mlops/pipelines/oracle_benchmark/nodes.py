"""Score the test split with the generator's true probabilities: the oracle.

Only synthetic data has an oracle, so this pipeline runs in ``__default__`` and not in
``end_to_end`` (the path for real exports).
"""

from typing import Any

import pandas as pd

from ga4_mlops.pipelines.data_generation.nodes import oracle_probabilities
from ga4_mlops.pipelines.model_evaluation.nodes import classification_metrics


def benchmark_against_oracle(
    ga4_user_truth: pd.DataFrame,
    test_predictions: pd.DataFrame,
    columns: dict[str, Any],
    evaluation: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Metrics of the oracle and of each evaluated model on the same test rows, computed
    exactly as model_evaluation computes them (its models and metric settings)."""
    target = test_predictions[columns["target"]].to_numpy()
    scores = {
        "oracle": oracle_probabilities(
            ga4_user_truth,
            test_predictions[["user_pseudo_id", "snapshot_date"]],
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

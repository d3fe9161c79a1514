"""Decide on promotion against the champion (or the baseline), register, then move the alias.

The run that registers a version also logs that version's drift references (its train rows,
its out-of-sample test scores): monitoring reads them from the run behind the alias.
"""

from kedro.pipeline import Node, Pipeline

from ga4_mlops.pipelines.drift_monitoring.nodes import build_drift_reference

from .gate import apply_promotion, decide_promotion
from .nodes import package_model


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=decide_promotion,
                inputs=[
                    "evaluation_metrics",
                    "test_set",
                    "previous_champion",
                    "params:model_input.columns",
                    "params:model_evaluation",
                    "params:model_registry.quality_gate",
                ],
                outputs="promotion_decision",
                name="decide_promotion",
            ),
            Node(
                func=package_model,
                inputs=[
                    "preprocessor",
                    "model",
                    "calibrator",
                    "tuned_hyperparameters",
                    "evaluation_metrics",
                    "params:model_input.columns",
                    "params:model_input.splits",
                    "test_set",
                    "promotion_decision",
                ],
                outputs=["propensity_model", "model_card"],
                name="package_model",
            ),
            # Logged to this run, the one that registers the version (read back by alias).
            Node(
                func=build_drift_reference,
                inputs=[
                    "train_set",
                    "test_predictions",
                    "params:model_input.columns",
                    "params:drift_monitoring",
                ],
                outputs=[
                    "drift_reference_rows",
                    "drift_reference_scores",
                    "drift_reference_summary",
                ],
                name="build_drift_reference",
            ),
            # After registration (the card is saved with the model) and after the drift
            # references are logged to this run: the alias acts on it.
            Node(
                func=apply_promotion,
                inputs=["model_card", "drift_reference_summary"],
                outputs="champion_model",
                name="apply_promotion",
            ),
        ]
    )

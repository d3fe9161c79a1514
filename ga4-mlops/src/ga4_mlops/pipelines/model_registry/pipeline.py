"""Decide on promotion against the champion (or the baseline), register, then move the alias."""

from kedro.pipeline import Node, Pipeline

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
            # After registration (the card is saved with the model): the alias acts on it.
            Node(
                func=apply_promotion,
                inputs="model_card",
                outputs="champion_model",
                name="apply_promotion",
            ),
        ]
    )

"""Package and register the model, then let the quality gate decide on the alias."""

from kedro.pipeline import Node, Pipeline

from .nodes import decide_promotion, package_model


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=package_model,
                inputs=[
                    "preprocessor",
                    "lightgbm_model",
                    "calibrator",
                    "lightgbm_hyperparameters",
                    "evaluation_metrics",
                    "params:model_input.columns",
                    "params:model_input.splits",
                    "test_set",
                ],
                outputs=["propensity_model", "model_card"],
                name="package_model",
            ),
            Node(
                func=decide_promotion,
                inputs=["model_card", "params:model_registry.quality_gate"],
                outputs=["champion_model", "promotion_decision"],
                name="decide_promotion",
            ),
        ]
    )

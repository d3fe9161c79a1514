"""Package and register the model, score the current champion, let the gate move the alias."""

from kedro.pipeline import Node, Pipeline

from .nodes import decide_promotion, package_model, score_current_champion


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=package_model,
                inputs=[
                    "refit_ranker",
                    "ranker_hyperparameters",
                    "ranking_features",
                    "evaluation_table",
                    "week_calendar",
                    "params:model_registry",
                ],
                outputs=["ranking_model", "model_card"],
                name="package_model",
            ),
            Node(
                func=score_current_champion,
                inputs=[
                    "current_champion",
                    "ranking_features",
                    "week_purchases",
                    "week_calendar",
                    "params:model_registry",
                ],
                outputs="champion_score",
                name="score_current_champion",
            ),
            Node(
                func=decide_promotion,
                inputs=["model_card", "champion_score", "params:model_registry.quality_gate"],
                outputs=["champion_model", "promotion_decision"],
                name="decide_promotion",
            ),
        ]
    )

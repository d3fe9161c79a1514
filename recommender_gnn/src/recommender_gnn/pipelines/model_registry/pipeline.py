"""Log and register the refit GNN as a pyfunc, then let the quality gate decide on the alias."""

from kedro.pipeline import Node, Pipeline

from .nodes import decide_promotion, package_model, score_champion


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=score_champion,
                inputs=["current_champion", "valid_sessions", "valid_labels", "item_map"],
                outputs="champion_valid_scores",
                name="score_champion",
            ),
            Node(
                func=package_model,
                inputs=[
                    "gnn_refit_checkpoint",
                    "gnn_best_params",
                    "gnn_seen_policy",
                    "refit_popular_items",
                    "item_map",
                    "valid_sessions",
                    "valid_labels",
                    "params:model_registry.pyfunc",
                    "params:model_selection",
                ],
                outputs=["gnn_model", "gnn_model_card"],
                name="package_model",
            ),
            Node(
                func=decide_promotion,
                inputs=[
                    "gnn_model_card",
                    "champion_valid_scores",
                    "model_selection_report",
                    "params:model_registry.quality_gate",
                ],
                outputs=["champion_model", "promotion_decision"],
                name="decide_promotion",
            ),
        ]
    )

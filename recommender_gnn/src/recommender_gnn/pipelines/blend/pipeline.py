"""Tune the GNN/co-visitation weight on validation, then blend both splits with it."""

from kedro.pipeline import Node, Pipeline

from .nodes import blend_test_predictions, tune_blend_weight


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=tune_blend_weight,
                inputs=[
                    "gnn_valid_predictions",
                    "covisitation_valid_predictions",
                    "valid_labels",
                    "params:blend",
                ],
                outputs=["blend_weight", "blend_weight_search"],
                name="tune_blend_weight",
            ),
            Node(
                func=blend_test_predictions,
                inputs=[
                    "gnn_predictions",
                    "covisitation_predictions",
                    "blend_weight",
                    "params:blend",
                ],
                outputs="blend_predictions",
                name="blend_test_predictions",
            ),
            Node(
                func=blend_test_predictions,
                inputs=[
                    "gnn_valid_predictions",
                    "covisitation_valid_predictions",
                    "blend_weight",
                    "params:blend",
                ],
                outputs="blend_valid_predictions",
                name="blend_valid_predictions",
            ),
        ]
    )

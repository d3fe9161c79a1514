"""GNN predictions for the test sessions (evaluated, submitted) and the validation sessions
(for tuning the blend and for the registry's quality gate)."""

from kedro.pipeline import Node, Pipeline

from .nodes import predict_test_sessions, predict_valid_sessions


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=predict_test_sessions,
                inputs=["gnn_checkpoint", "test_sessions", "params:gnn_inference"],
                outputs="gnn_predictions",
                name="predict_test_sessions",
            ),
            Node(
                func=predict_valid_sessions,
                inputs=["gnn_checkpoint", "valid_sessions", "params:gnn_inference"],
                outputs="gnn_valid_predictions",
                name="predict_valid_sessions",
            ),
        ]
    )

"""GNN candidates: the validation sessions from the network fit before the validation week
(tuning of the blend, the seen-item policy, the gates), the test sessions from the refit one."""

from kedro.pipeline import Node, Pipeline

from .nodes import predict_test_sessions, predict_valid_sessions


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=predict_valid_sessions,
                inputs=["gnn_checkpoint", "valid_sessions", "params:gnn_inference"],
                outputs="gnn_valid_candidates",
                name="recommend_gnn_valid",
                tags=["gnn_scoring"],
            ),
            Node(
                func=predict_test_sessions,
                inputs=["gnn_refit_checkpoint", "test_sessions", "params:gnn_inference"],
                outputs="gnn_test_candidates",
                name="recommend_gnn_test",
                tags=["gnn_scoring"],
            ),
        ]
    )

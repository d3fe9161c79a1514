"""H&M transactions -> sequences (data_preparation's H&M adapter) -> weekly split -> the OTTO
pipelines' own training and inference nodes, reused through namespaces -> MAP@12 / Recall@12 against
popularity and repurchase. Runs alone: ``kedro run --pipelines=hm_sequences``."""

from kedro.pipeline import Node, Pipeline, pipeline

from recommender_gnn.models.session_gnn.training import train_session_gnn
from recommender_gnn.pipelines import gnn_inference
from recommender_gnn.pipelines.data_preparation.hm_adapter import create_hm_adapter_pipeline

from .nodes import baseline_predictions, evaluate, gnn_with_seen_items, split_weeks

NAMESPACE = "hm_sequences"


def create_pipeline(**kwargs) -> Pipeline:
    training = Pipeline(
        [
            Node(
                func=train_session_gnn,
                inputs=[
                    "hm_train_sequences",
                    "hm_valid_sessions",
                    "hm_valid_labels",
                    "hm_item_map",
                    f"params:{NAMESPACE}.model_training",
                ],
                outputs=["hm_gnn_checkpoint", "hm_gnn_training_history"],
                name="hm_train_session_gnn",
                tags=["gnn_training"],
            )
        ]
    )
    # The OTTO scoring nodes as a nested namespace: "hm_sequences.gnn_inference.<node>" once the
    # registry puts the folder's namespace around them (Kedro-Viz: a box inside hm_sequences).
    inference = pipeline(
        gnn_inference.create_pipeline(),
        namespace="gnn_inference",
        inputs={
            "gnn_checkpoint": "hm_gnn_checkpoint",
            "gnn_refit_checkpoint": "hm_gnn_checkpoint",
            "test_sessions": "hm_test_sessions",
            "valid_sessions": "hm_valid_sessions",
        },
        outputs={
            "gnn_test_candidates": "hm_gnn_candidates",
            "gnn_valid_candidates": "hm_gnn_valid_candidates",
        },
        parameters={"params:gnn_inference": f"params:{NAMESPACE}.gnn_inference"},
    )
    own = Pipeline(
        [
            Node(
                func=split_weeks,
                inputs="hm_interactions",
                outputs=[
                    "hm_train_sequences",
                    "hm_valid_sessions",
                    "hm_valid_labels",
                    "hm_test_sessions",
                    "hm_test_labels",
                ],
                name="hm_split_weeks",
            ),
            Node(
                func=baseline_predictions,
                inputs=["hm_train_sequences", "hm_test_sessions", f"params:{NAMESPACE}.baselines"],
                outputs=["hm_popularity_predictions", "hm_repurchase_predictions"],
                name="hm_baseline_predictions",
            ),
            Node(
                func=gnn_with_seen_items,
                inputs=[
                    "hm_gnn_valid_candidates",
                    "hm_valid_sessions",
                    "hm_valid_labels",
                    "hm_gnn_candidates",
                    "hm_test_sessions",
                    "hm_train_sequences",
                    f"params:{NAMESPACE}",
                ],
                outputs="hm_gnn_predictions",
                name="hm_gnn_with_seen_items",
            ),
            Node(
                func=evaluate,
                inputs=[
                    "hm_gnn_predictions",
                    "hm_gnn_candidates",
                    "hm_popularity_predictions",
                    "hm_repurchase_predictions",
                    "hm_test_labels",
                    f"params:{NAMESPACE}.baselines",
                ],
                outputs="hm_metrics",
                name="hm_evaluate",
            ),
        ]
    )
    return create_hm_adapter_pipeline() + own + training + inference

"""Test metrics of every model side by side, by session length, as a plot and in MLflow."""

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_models, evaluation_plot, oracle_predictions

# Every model whose `<model>_predictions` the evaluation reads (gnn and blend come from the
# gnn_inference and blend pipelines).
MODELS = ("popularity", "covisitation", "gnn", "blend", "oracle")


def create_pipeline(models=MODELS, **kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=oracle_predictions,
                inputs=["oracle_next_items", "item_map", "session_map"],
                outputs="oracle_predictions",
                name="oracle_predictions",
            ),
            Node(
                func=evaluate_models,
                inputs={
                    "test_labels": "test_labels",
                    "test_sessions": "test_sessions",
                    **{model: f"{model}_predictions" for model in models},
                },
                outputs=[
                    "evaluation_metrics",
                    "evaluation_by_session_length",
                    "evaluation_mlflow_metrics",
                ],
                name="evaluate_models",
            ),
            Node(
                func=evaluation_plot,
                inputs=["evaluation_metrics", "evaluation_by_session_length"],
                outputs="evaluation_plot",
                name="evaluation_plot",
            ),
        ]
    )

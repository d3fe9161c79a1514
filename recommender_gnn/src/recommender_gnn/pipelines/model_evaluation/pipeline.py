"""Every model on validation (what choices were made on) and on test (only reported), with
paired bootstrap intervals; a table by session length, a plot and MLflow metrics. The test week's
predictions are made here, after the gate: seen_items' policies applied to the test candidates
of every model, or of the submitted one only."""

from kedro.pipeline import Node, Pipeline

from recommender_gnn.pipelines.seen_items.pipeline import policy_on_test_week

from .nodes import (
    evaluate_test,
    evaluate_validation,
    evaluation_plot,
    gate_submission,
    oracle_predictions,
)

# Every model whose `<model>_predictions` and `<model>_valid_predictions` the evaluation reads.
MODELS = ("popularity", "covisitation", "transitions", "sknn", "gnn", "blend")


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
                func=evaluate_validation,
                inputs={
                    "valid_labels": "valid_labels",
                    "valid_sessions": "valid_sessions",
                    "params": "params:model_selection",
                    **{model: f"{model}_valid_predictions" for model in models},
                },
                outputs=["validation_metrics", "model_selection_report"],
                name="evaluate_validation",
            ),
            # Which model the submission comes from, decided on validation before the test week
            # is predicted (policy_on_test_week: for that model only, if so configured).
            Node(
                func=gate_submission,
                inputs=["model_selection_report", "params:submission"],
                outputs="submission_decision",
                name="gate_submission",
            ),
            *policy_on_test_week(models),
            Node(
                func=evaluate_test,
                inputs={
                    "test_labels": "test_labels",
                    "test_sessions": "test_sessions",
                    "params": "params:model_selection",
                    "selection_report": "model_selection_report",
                    **{model: f"{model}_predictions" for model in (*models, "oracle")},
                },
                outputs=[
                    "evaluation_metrics",
                    "evaluation_by_session_length",
                    "evaluation_mlflow_metrics",
                ],
                name="evaluate_test",
            ),
            Node(
                func=evaluation_plot,
                inputs=["evaluation_metrics", "evaluation_by_session_length"],
                outputs="evaluation_plot",
                name="evaluation_plot",
            ),
        ]
    )

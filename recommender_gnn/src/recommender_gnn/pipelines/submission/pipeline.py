"""The Kaggle file from the model the gate let through (``gate_submission``, decided on
validation in model_evaluation), checked before it is written."""

from kedro.pipeline import Node, Pipeline

from .nodes import check_submission, submit

# The candidate (params submission.model) and the baselines it may fall back to.
MODELS = ("popularity", "covisitation", "transitions", "sknn", "gnn", "blend")


def create_pipeline(models=MODELS, **kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=submit,
                inputs={
                    "decision": "submission_decision",
                    "popular_items": "refit_popular_items",
                    "item_map": "item_map",
                    "session_map": "session_map",
                    **{model: f"{model}_predictions" for model in models},
                },
                outputs="submission_unchecked",
                name="build_submission",
            ),
            Node(
                func=check_submission,
                inputs=["submission_unchecked", "session_map"],
                outputs="submission",
                name="check_submission",
            ),
        ]
    )

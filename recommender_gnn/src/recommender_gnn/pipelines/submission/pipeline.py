"""The Kaggle file from the blend (GNN + co-visitation), checked before it is written."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_submission, check_submission

# The model whose test predictions are submitted (the blend scores best on validation).
SUBMITTED_MODEL = "blend"


def create_pipeline(model: str = SUBMITTED_MODEL, **kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=build_submission,
                inputs=[f"{model}_predictions", "popular_items", "item_map", "session_map"],
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

"""Score the scoring snapshot, and the train split as the drift reference."""

from kedro.pipeline import Node, Pipeline

from .nodes import score_rows


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=score_rows,
                inputs=["champion_model", "scoring_set", "params:model_input.columns"],
                outputs="batch_scores",
                name="score_scoring_set",
            ),
            Node(
                func=score_rows,
                inputs=["champion_model", "train_set", "params:model_input.columns"],
                outputs="train_scores",
                name="score_train_set",
            ),
        ]
    )

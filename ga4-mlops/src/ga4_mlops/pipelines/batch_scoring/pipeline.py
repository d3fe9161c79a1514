"""Score the scoring snapshot with the champion (drift compares it with the test split's
out-of-sample scores, ``test_predictions``)."""

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
        ]
    )

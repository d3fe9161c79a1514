"""Score the scoring snapshot with the champion (drift compares it with the champion's own
out-of-sample test scores, ``drift_reference_scores``)."""

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

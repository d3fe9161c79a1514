"""The inference pipeline: week 0's persisted candidate features, scored by the champion."""

from kedro.pipeline import Node, Pipeline

from .nodes import recommend


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=recommend,
                inputs=[
                    "champion_model",
                    "ranking_features",
                    "customers",
                    "params:recommendations",
                ],
                outputs="submission",
                name="recommend",
            )
        ]
    )

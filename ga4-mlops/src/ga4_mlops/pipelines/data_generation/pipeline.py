"""The built-in local data: a synthetic GA4 export and its true probabilities."""

from kedro.pipeline import Node, Pipeline

from .nodes import generate_ga4_events


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=generate_ga4_events,
                inputs="params:data_generation",
                # ga4_events@partitions: the daily files; the feature query reads the same
                # data as ga4_events@user_features, so Kedro runs it after this node.
                outputs=["ga4_events@partitions", "ga4_user_truth"],
                name="generate_ga4_events",
            )
        ]
    )

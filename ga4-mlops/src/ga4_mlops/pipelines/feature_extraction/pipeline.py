"""From the feature query's result (DuckDB or BigQuery, chosen by the catalog) to model input."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_model_input_table


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=build_model_input_table,
                inputs=[
                    "ga4_events@user_features",
                    "params:feature_extraction",
                    "params:model_input.columns",
                    "params:model_input.splits",
                ],
                outputs="model_input_table",
                name="build_model_input_table",
            )
        ]
    )

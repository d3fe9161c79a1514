"""From the feature query's result (DuckDB or BigQuery, chosen by the catalog) to model input."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_model_input_table
from .raw_contract import check_raw_export


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            # Before the query: every daily table carries the fields it reads, typed right.
            Node(
                func=check_raw_export,
                inputs="ga4_events@schemas",
                outputs="raw_export_report",
                name="check_raw_export",
            ),
            Node(
                func=build_model_input_table,
                inputs=[
                    "ga4_events@user_features",
                    "params:feature_extraction",
                    "params:model_input.columns",
                    "params:model_input.splits",
                    "raw_export_report",
                ],
                outputs="model_input_table",
                name="build_model_input_table",
            ),
        ]
    )

"""Oracle benchmark of the test split (synthetic data only)."""

from kedro.pipeline import Node, Pipeline

from .nodes import benchmark_against_oracle


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=benchmark_against_oracle,
                inputs=[
                    "ga4_user_truth",
                    "test_predictions",
                    "params:model_input.columns",
                    "params:model_evaluation",
                    "params:oracle_benchmark",
                ],
                outputs=["oracle_benchmark", "oracle_benchmark_mlflow_metrics"],
                name="benchmark_against_oracle",
            )
        ]
    )

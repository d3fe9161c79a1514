"""The built-in local data: OTTO-format sessions (JSON lines + Parquet), the true next-click
distribution of the test sessions, and H&M-shaped transactions."""

from kedro.pipeline import Node, Pipeline

from .nodes import generate_hm_transactions, generate_otto_sessions


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=generate_otto_sessions,
                inputs=["params:data_generation.otto", "params:seed"],
                outputs=[
                    "otto_train",
                    "otto_test",
                    "otto_test_labels",
                    "otto_train_parquet",
                    "otto_test_parquet",
                    "oracle_next_items",
                ],
                name="generate_otto_sessions",
            ),
            Node(
                func=generate_hm_transactions,
                inputs=["params:data_generation.hm", "params:seed"],
                outputs="hm_transactions",
                name="generate_hm_transactions",
            ),
        ]
    )

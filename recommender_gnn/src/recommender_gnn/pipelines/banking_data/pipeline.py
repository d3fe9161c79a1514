"""Banking (Santander format) data: generate the raw files, type them, and score the oracle
and popularity references (conf/base/catalog_banking_data.yml). Runs alone:
``kedro run --pipelines=banking_data``; the models on top of it are still to come."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    clean_santander_test,
    clean_santander_train,
    generate_santander_data,
    score_references,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=generate_santander_data,
                inputs="params:banking_data.generator",
                outputs={
                    "train": "santander_train_raw",
                    "test": "santander_test_raw",
                    "test_labels": "santander_test_labels",
                    "oracle": "santander_oracle",
                },
                name="generate_santander",
            ),
            Node(
                func=clean_santander_train,
                inputs="santander_train_raw",
                outputs="santander_train",
                name="clean_santander_train",
            ),
            Node(
                func=clean_santander_test,
                inputs="santander_test_raw",
                outputs="santander_test",
                name="clean_santander_test",
            ),
            Node(
                func=score_references,
                inputs=[
                    "santander_train",
                    "santander_test",
                    "santander_test_labels",
                    "santander_oracle",
                    "params:banking_data.scores",
                ],
                outputs="banking_data_scores",
                name="score_banking_references",
            ),
        ]
    )

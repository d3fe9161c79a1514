"""Split the table (by date or id hash), fit the preprocessor on train, encode the splits."""

from functools import partial

from kedro.pipeline import Node, Pipeline

from .nodes import encode_features, fit_preprocessor
from .splits import split_model_input

LABELLED_SPLITS = ("train", "validation", "calibration", "test")


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=split_model_input,
                inputs=[
                    "model_input_table",
                    "params:model_input.columns",
                    "params:model_input.splits",
                ],
                outputs=[f"{split}_set" for split in (*LABELLED_SPLITS, "scoring")],
                name="split_model_input",
            ),
            Node(
                func=fit_preprocessor,
                inputs=["train_set", "params:model_input.columns", "params:feature_engineering"],
                outputs="preprocessor",
                name="fit_preprocessor",
            ),
            *[
                Node(
                    func=partial(encode_features, split=split),
                    inputs=["preprocessor", f"{split}_set"],
                    outputs=f"{split}_features",
                    name=f"encode_{split}_features",
                )
                for split in LABELLED_SPLITS
            ],
        ]
    )

"""Split the table (by date or id hash), fit the preprocessor on train, encode the splits."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from .nodes import encode_features, fit_preprocessor
from .splits import split_model_input

LABELLED_SPLITS = ("train", "validation", "calibration", "test")


def _named(func, **kwargs):
    """``partial(func, **kwargs)`` with ``func``'s name and type hints: Kedro 1.7 reads the hints
    of every node function and warns "Could not extract type hints" on a bare partial."""
    return update_wrapper(partial(func, **kwargs), func)


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
                    func=_named(encode_features, split=split),
                    inputs=["preprocessor", f"{split}_set"],
                    outputs=f"{split}_features",
                    name=f"encode_{split}_features",
                )
                for split in LABELLED_SPLITS
            ],
        ]
    )

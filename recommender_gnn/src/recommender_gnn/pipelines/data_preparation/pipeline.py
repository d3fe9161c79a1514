"""OTTO files -> canonical interactions, id maps, and the train / validation / test splits."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from .nodes import build_interactions, clean_events, refit_sessions, split_validation


def _named(func, **kwargs):
    return update_wrapper(partial(func, **kwargs), func)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=_named(clean_events, dataset="otto_train"),
                inputs="otto_train",
                outputs="train_events",
                name="clean_train_events",
            ),
            Node(
                func=_named(clean_events, dataset="otto_test"),
                inputs="otto_test",
                outputs="test_events",
                name="clean_test_events",
            ),
            Node(
                func=build_interactions,
                inputs=["train_events", "test_events", "otto_test_labels"],
                outputs=["interactions", "item_map", "session_map", "test_sessions", "test_labels"],
                name="build_interactions",
            ),
            Node(
                func=split_validation,
                inputs=["interactions", "session_map", "params:data_preparation", "params:seed"],
                outputs=["train_sessions", "valid_sessions", "valid_labels"],
                name="split_validation",
            ),
            Node(
                func=refit_sessions,
                inputs=["interactions", "session_map", "train_sessions", "params:data_preparation"],
                outputs="refit_sessions",
                name="refit_sessions",
            ),
        ]
    )

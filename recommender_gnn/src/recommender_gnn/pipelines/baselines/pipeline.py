"""Popularity and co-visitation (SQL counts + session scoring) for validation and test."""

from kedro.pipeline import Node, Pipeline

from .nodes import covisitation_neighbours, popular_items, recommend_covisitation, recommend_popular


def create_pipeline(**kwargs) -> Pipeline:
    nodes = [
        Node(
            func=popular_items,
            inputs=["train_sessions", "params:baselines"],
            outputs="popular_items",
            name="popular_items",
        ),
        Node(
            func=covisitation_neighbours,
            inputs=["covisitation_counts", "train_sessions"],
            outputs="covisitation_neighbours",
            name="covisitation_neighbours",
        ),
    ]
    for split, prefix in (("test", ""), ("valid", "valid_")):
        nodes += [
            Node(
                func=recommend_popular,
                inputs=[f"{split}_sessions", "popular_items"],
                outputs=f"popularity_{prefix}predictions",
                name=f"recommend_popular_{split}",
            ),
            Node(
                func=recommend_covisitation,
                inputs=[
                    f"{split}_sessions",
                    "covisitation_neighbours",
                    "popular_items",
                    "params:baselines",
                ],
                outputs=f"covisitation_{prefix}predictions",
                name=f"recommend_covisitation_{split}",
            ),
        ]
    return Pipeline(nodes)

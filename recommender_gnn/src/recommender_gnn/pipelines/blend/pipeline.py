"""Tune the members' weights on validation, then fuse the validation and test candidates."""

from kedro.pipeline import Node, Pipeline

from .nodes import apply_blend, tune_blend

# The models whose candidates may be fused (params blend.members picks among them).
MEMBERS = ("covisitation", "transitions", "sknn", "gnn")


def create_pipeline(members=MEMBERS, **kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=tune_blend,
                inputs={
                    "valid_sessions": "valid_sessions",
                    "valid_labels": "valid_labels",
                    "popular_items": "train_popular_items",
                    "params": "params:blend",
                    "selection": "params:model_selection",
                    **{member: f"{member}_valid_candidates" for member in members},
                },
                outputs=["blend_best_params", "blend_tuning_trials"],
                name="tune_blend",
            ),
            *[
                Node(
                    func=apply_blend,
                    inputs={
                        "params": "blend_best_params",
                        **{member: f"{member}_{split}_candidates" for member in members},
                    },
                    outputs=f"blend_{split}_candidates",
                    name=f"blend_{split}_candidates",
                )
                for split in ("valid", "test")
            ],
        ]
    )

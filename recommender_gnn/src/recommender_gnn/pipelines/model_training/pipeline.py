"""Tune SR-GNN on validation like every model, then refit it on the whole training file.

Session graphs are built per mini-batch inside training (graphs.py) from pairs streamed by
blocks of sessions (stream.py): materialising one PyG graph, or even one row, per (prefix,
target) pair would hold hundreds of millions of them at OTTO's size for no gain.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import refit_gnn, tune_gnn


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=tune_gnn,
                inputs=[
                    "train_sessions",
                    "valid_sessions",
                    "valid_labels",
                    "item_map",
                    "train_popular_items",
                    "params:model_training",
                    "params:model_selection",
                ],
                outputs=[
                    "gnn_best_params",
                    "gnn_tuning_trials",
                    "gnn_checkpoint",
                    "gnn_training_history",
                ],
                name="tune_gnn",
                tags=["gnn_training"],
            ),
            Node(
                func=refit_gnn,
                inputs=["refit_sessions", "item_map", "gnn_best_params", "gnn_checkpoint"],
                outputs=["gnn_refit_checkpoint", "gnn_refit_history"],
                name="refit_gnn",
                tags=["gnn_training"],
            ),
        ]
    )

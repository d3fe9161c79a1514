"""Train SR-GNN on the training sessions; validation picks the epoch (early stopping).

Session graphs are built per mini-batch inside training (graphs.py): materialising one PyG
graph per (prefix, next item) pair would hold millions of small objects for no gain.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import train_session_gnn


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=train_session_gnn,
                inputs=[
                    "train_sessions",
                    "valid_sessions",
                    "valid_labels",
                    "item_map",
                    "params:model_training",
                ],
                outputs=["gnn_checkpoint", "gnn_training_history"],
                name="train_session_gnn",
                tags=["gnn_training"],
            )
        ]
    )

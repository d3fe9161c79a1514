"""SR-GNN: session graphs (graphs.py), the model (model.py), streamed training pairs
(stream.py), fit_gnn (nodes.py) and blocked candidate scoring, recommend_gnn (recommend.py)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

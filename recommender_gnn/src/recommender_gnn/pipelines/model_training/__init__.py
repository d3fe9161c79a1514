"""Graph construction (graphs.py) and SR-GNN training (model.py, nodes.py)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

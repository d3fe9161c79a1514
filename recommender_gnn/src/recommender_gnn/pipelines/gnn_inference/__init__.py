"""Top-20 items per session from the trained SR-GNN, in the shared predictions format."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""SR-GNN candidates (new items per session and event type) in the shared candidates format."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""Package the GNN as an MLflow pyfunc, register it, promote it by alias through a gate."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""Package the scoring path as one MLflow model, register it, promote it by alias."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""Drift of features and score between the training rows and the rows scored now."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

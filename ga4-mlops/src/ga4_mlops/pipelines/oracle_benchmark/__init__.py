"""How far the models are from the best possible score on synthetic data."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

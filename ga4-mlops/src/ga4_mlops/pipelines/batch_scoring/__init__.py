"""Score every user of the scoring snapshot with the champion model from the registry."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""Hand-written SQL features, embedding similarities, Deep Feature Synthesis, selection."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""Time split of the model-input table and the preprocessing fitted on train only."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

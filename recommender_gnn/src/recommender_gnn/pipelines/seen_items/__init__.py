"""Every model's candidates -> predictions, with the seen-item policy chosen on validation."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

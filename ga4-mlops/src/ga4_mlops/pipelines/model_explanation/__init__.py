"""SHAP explanation of the LightGBM model on the test split."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

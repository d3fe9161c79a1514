"""Logistic baseline, LightGBM tuned by Optuna, and probability calibration."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

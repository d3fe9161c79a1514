"""Test-split metrics and plots of the baseline, raw LightGBM and calibrated LightGBM."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

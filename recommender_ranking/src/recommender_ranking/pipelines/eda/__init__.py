"""Exploratory reports of the prepared tables (HTML profiles and plots, logged to MLflow)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

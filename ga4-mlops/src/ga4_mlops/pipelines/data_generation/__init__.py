"""Seeded generator of GA4-export-shaped events with known true probabilities."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

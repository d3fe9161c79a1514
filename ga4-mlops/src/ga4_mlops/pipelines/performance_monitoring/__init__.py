"""Realized performance of past scores once their labels are known, and the retraining call."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

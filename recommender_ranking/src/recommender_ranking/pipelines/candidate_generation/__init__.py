"""Candidates for every ranked customer and week, from several sources, and their recall."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

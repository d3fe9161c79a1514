"""Top 12 articles for every customer for the week after the data (the `inference` pipeline)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

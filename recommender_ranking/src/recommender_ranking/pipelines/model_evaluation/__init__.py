"""MAP@12 and recall@12 on the test week: baseline, each source, the ranker, the oracle."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""Register the ranker as one pyfunc model; promote it by alias through a quality gate."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

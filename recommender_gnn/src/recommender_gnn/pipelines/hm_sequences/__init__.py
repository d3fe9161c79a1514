"""The same SR-GNN on H&M purchase sequences, against popularity and repurchase baselines."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

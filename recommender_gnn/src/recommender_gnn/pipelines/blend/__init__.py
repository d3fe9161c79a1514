"""Blend the GNN with co-visitation; the weight is tuned on the validation split."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

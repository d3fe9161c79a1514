"""LightGBM lambdarank on the candidate rows, tuned by Optuna; the DFS ablation."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

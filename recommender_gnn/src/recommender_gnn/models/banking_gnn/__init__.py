"""A customer-product GNN for the Santander product recommendation (banking_data): which of
the 24 products each customer adds next month. ``training.py`` holds the public functions."""

from .training import (
    DEFAULT_PARAMS,
    fit_banking_gnn,
    score_banking_gnn,
    top_k,
    training_months,
)

__all__ = ["DEFAULT_PARAMS", "fit_banking_gnn", "score_banking_gnn", "top_k", "training_months"]

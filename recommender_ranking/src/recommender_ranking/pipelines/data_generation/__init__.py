"""Seeded synthetic H&M data (articles, customers, transactions, images) and its oracle."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

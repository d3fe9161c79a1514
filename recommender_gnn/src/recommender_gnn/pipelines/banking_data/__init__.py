"""banking_data pipeline: Santander-format data, its typed contract and reference scores."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

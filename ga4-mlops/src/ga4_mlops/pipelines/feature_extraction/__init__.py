"""One query (BigQuery SQL, run by BigQuery or DuckDB) to one validated model-input table."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

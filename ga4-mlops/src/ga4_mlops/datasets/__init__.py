"""Datasets that kedro-datasets and kedro-mlflow do not provide (each says why)."""

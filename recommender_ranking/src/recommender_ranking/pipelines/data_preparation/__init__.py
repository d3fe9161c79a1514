"""Raw files validated against their contract, then sampled for a laptop."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

"""Banking (Santander format) models: LightGBM on lag features against popularity and the
oracle, tuned on May 2016, refit for June 2016 (README, "The generated data", Banking)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

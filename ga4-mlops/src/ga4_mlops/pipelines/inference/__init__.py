"""Score one as-of date (default: the day after the newest event) with the champion."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

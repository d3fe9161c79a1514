"""Seeded generator of GA4-export-shaped events with known true probabilities.

Modules by concern: ``vocabulary`` (export values), ``params`` (checks, calendar, random
streams), ``users`` (attributes and latent traits), ``sessions`` (session plan and the
funnel of each day), ``catalogue`` and ``export`` (Arrow rows of the export schema in
``schema``), ``oracle`` (the truth table and exact probabilities); ``nodes`` holds the node.
"""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

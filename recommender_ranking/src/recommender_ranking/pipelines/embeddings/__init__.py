"""Image (convolutional autoencoder) and text (MiniLM) embeddings per article."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]

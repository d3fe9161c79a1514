"""recommender_gnn: session-based next-item recommendation with a graph neural network."""

__version__ = "0.1.0"

"""recommender_gnn: session-based next-item recommendation with a graph neural network (OTTO, H&M)."""

__version__ = "0.1.0"

"""Tune SR-GNN on validation like every other model, then refit it (nodes.py); the model code
itself is in ``recommender_gnn.models.session_gnn``."""

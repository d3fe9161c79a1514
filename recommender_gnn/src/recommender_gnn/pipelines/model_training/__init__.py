"""SR-GNN: session graphs (graphs.py), the model (model.py), streamed training pairs
(stream.py), fit_gnn (nodes.py) and blocked candidate scoring, recommend_gnn (recommend.py).

No ``create_pipeline`` import here (pipeline_registry imports ``.pipeline``): the registered
model imports this package's modules where Kedro is not installed (serving).
"""

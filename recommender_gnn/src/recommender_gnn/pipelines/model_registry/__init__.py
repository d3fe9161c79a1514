"""Package the GNN as an MLflow pyfunc, register it, promote it by alias through a gate.

No ``create_pipeline`` import here (pipeline_registry imports ``.pipeline``): the registered
model imports this package's modules where Kedro is not installed (serving).
"""

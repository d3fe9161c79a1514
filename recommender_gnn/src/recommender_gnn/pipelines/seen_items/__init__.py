"""Every model's candidates -> predictions, with the seen-item policy chosen on validation.

No ``create_pipeline`` import here (pipeline_registry imports ``.pipeline``): the registered
model imports this package's modules where Kedro is not installed (serving).
"""

"""Banking (Santander format) models: LightGBM on lag features against popularity and the
oracle, tuned on May 2016, refit for June 2016 (README, "The generated data", Banking).

No ``create_pipeline`` import here (pipeline_registry imports ``.pipeline``): the registered
model (``serving.py``) imports this package where Kedro is not installed (serving).
"""

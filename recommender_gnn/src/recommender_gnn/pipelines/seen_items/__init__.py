"""Every model's candidates -> predictions, with the seen-item policy chosen on validation."""


def __getattr__(name: str):
    """``create_pipeline`` (Kedro) on first use only: the registered model imports this
    package's modules in a serving environment without Kedro (model_registry/nodes.py)."""
    if name == "create_pipeline":
        from .pipeline import create_pipeline

        return create_pipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["create_pipeline"]

"""Project pipelines: one per folder under ``pipelines/``, plus the compositions users run."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from recommender_gnn.pipelines import model_evaluation, submission

GNN_PIPELINES = ("model_training", "gnn_inference", "blend", "model_registry")


def register_pipelines() -> dict[str, Pipeline]:
    """Compose the folder pipelines into the ones a user runs.

    ``training`` retrains on the persisted splits; ``end_to_end`` is the path for real OTTO
    files (data/01_raw or gs://); ``__default__`` adds the generator in front of it.
    """
    pipelines = find_pipelines(raise_errors=False)
    missing = [name for name in GNN_PIPELINES if name not in pipelines]
    if missing:  # while the GNN side is being built: evaluate and submit what exists
        pipelines["model_evaluation"] = model_evaluation.create_pipeline(
            models=("popularity", "covisitation", "oracle")
        )
        pipelines["submission"] = submission.create_pipeline(model="covisitation")
    empty = Pipeline([])
    training = pipelines.get("model_training", empty) + pipelines.get("model_registry", empty)
    end_to_end = (
        pipelines["data_preparation"]
        + pipelines["baselines"]
        + pipelines.get("model_training", empty)
        + pipelines.get("gnn_inference", empty)
        + pipelines.get("blend", empty)
        + pipelines["model_evaluation"]
        + pipelines.get("model_registry", empty)
        + pipelines["submission"]
    )
    return {
        **pipelines,
        "training": training,
        "end_to_end": end_to_end,
        "__default__": pipelines["data_generation"] + end_to_end,
    }

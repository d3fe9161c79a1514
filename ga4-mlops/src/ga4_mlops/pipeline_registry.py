"""Project pipelines: one per folder under ``pipelines/``, plus the compositions users run."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Compose the folder pipelines into the ones a user runs.

    ``training`` and ``scoring`` run alone on persisted inputs; ``end_to_end`` is the
    path for real data (local files or BigQuery); ``__default__`` adds the generator and
    the oracle benchmark that only synthetic data can have.
    """
    pipelines = find_pipelines(raise_errors=True)
    training = (
        pipelines["feature_engineering"]
        + pipelines["model_training"]
        + pipelines["model_evaluation"]
        + pipelines["model_explanation"]
        + pipelines["model_registry"]
    )
    scoring = pipelines["batch_scoring"] + pipelines["drift_monitoring"]
    end_to_end = pipelines["feature_extraction"] + training + scoring
    return {
        **pipelines,
        "training": training,
        "scoring": scoring,
        "end_to_end": end_to_end,
        "__default__": pipelines["data_generation"] + end_to_end + pipelines["oracle_benchmark"],
    }

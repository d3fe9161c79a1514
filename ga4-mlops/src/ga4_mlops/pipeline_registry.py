"""Project pipelines: one per folder under ``pipelines/``, plus the compositions users run."""

from kedro.pipeline import Pipeline

from ga4_mlops.pipelines import (
    batch_scoring,
    data_generation,
    drift_monitoring,
    feature_engineering,
    feature_extraction,
    inference,
    model_evaluation,
    model_explanation,
    model_registry,
    model_training,
    oracle_benchmark,
    performance_monitoring,
)

# Imported by name, not with find_pipelines(): since Kedro 1.7, `kedro run --pipeline=X` makes
# find_pipelines() import only the folder X, and the compositions below need every folder.
FOLDER_PIPELINES = (
    data_generation,
    feature_extraction,
    feature_engineering,
    model_training,
    model_evaluation,
    model_explanation,
    model_registry,
    batch_scoring,
    drift_monitoring,
    oracle_benchmark,
    inference,
    performance_monitoring,
)


def register_pipelines() -> dict[str, Pipeline]:
    """Compose the folder pipelines into the ones a user runs.

    ``training`` and ``scoring`` run alone on persisted inputs; ``end_to_end`` is the
    path for real data (local files or BigQuery); ``weekly`` scores the newest as-of date
    and monitors realized performance; ``__default__`` adds the generator and the oracle
    benchmark that only synthetic data can have, and runs one ``weekly`` round at the end.
    """
    pipelines = {
        module.__name__.rsplit(".", 1)[-1]: module.create_pipeline() for module in FOLDER_PIPELINES
    }
    training = (
        pipelines["feature_engineering"]
        + pipelines["model_training"]
        + pipelines["model_evaluation"]
        + pipelines["model_explanation"]
        + pipelines["model_registry"]
    )
    scoring = pipelines["batch_scoring"] + pipelines["drift_monitoring"]
    end_to_end = pipelines["feature_extraction"] + training + scoring
    # Every week: score the newest as-of date, then realized performance and the decision.
    weekly = pipelines["inference"] + pipelines["performance_monitoring"]
    return {
        **pipelines,
        "training": training,
        "scoring": scoring,
        "end_to_end": end_to_end,
        "weekly": weekly,
        "__default__": (
            pipelines["data_generation"] + end_to_end + pipelines["oracle_benchmark"] + weekly
        ),
    }

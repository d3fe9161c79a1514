"""Project pipelines: one per folder under ``pipelines/``, plus the compositions users run.

Each folder pipeline is namespaced by its folder name, so Kedro-Viz opens one box per folder
(expanded on click) and a node is named ``<folder>.<node>`` (``kedro run
--nodes=model_training.tune_hyperparameters``). Dataset and parameter names are left as they
are (``prefix_datasets_with_namespace=False``): the catalog and parameters files name them.
"""

import importlib

from kedro.pipeline import Pipeline, pipeline

from ga4_mlops.vertex_ai_steps import tag_vertex_ai_steps

# Imported by name, not with find_pipelines(): since Kedro 1.7, `kedro run --pipelines=X` makes
# find_pipelines() import only the folder X, and the compositions below need every folder.
FOLDERS = (
    "data_generation",
    "feature_extraction",
    "feature_engineering",
    "model_training",
    "model_evaluation",
    "model_explanation",
    "model_registry",
    "batch_scoring",
    "drift_monitoring",
    "oracle_benchmark",
    "inference",
    "performance_monitoring",
)

# One Vertex AI step (one container) per entry, by what its nodes need: kedro-vertexai's
# TagNodeGrouper runs the nodes tagged "group.<step>" together, conf/gcp/vertexai.yml sizes each
# step (README, "Vertex AI").
VERTEX_AI_STEPS = {
    # SQL: the export's contract check and the feature query (BigQuery on gcp, DuckDB locally),
    # whose result reaches pandas: memory. The generator (synthetic data only) runs before it.
    "extract-features": ("data_generation", "feature_extraction"),
    "train": ("feature_engineering", "model_training"),  # CPU: LightGBM threads, Optuna
    # Test-split metrics, plots and SHAP values (CPU threads), the oracle comparison.
    "evaluate-and-explain": ("model_evaluation", "model_explanation", "oracle_benchmark"),
    # MLflow only: the gate, packaging, the version's drift references, the champion alias.
    "register": ("model_registry",),
    "score-and-monitor": ("batch_scoring", "drift_monitoring"),  # the champion, drift tables
    # The weekly schedule's one step: the newest date's query, scores, realized performance.
    "weekly": ("inference", "performance_monitoring"),
}


def _folder_pipeline(name: str) -> Pipeline:
    return pipeline(
        importlib.import_module(f"ga4_mlops.pipelines.{name}").create_pipeline(),
        namespace=name,
        prefix_datasets_with_namespace=False,
    )


def register_pipelines() -> dict[str, Pipeline]:
    """Compose the folder pipelines into the ones a user runs.

    ``training`` and ``scoring`` run alone on persisted inputs; ``end_to_end`` is the
    path for real data (local files or BigQuery); ``weekly`` scores the newest as-of date
    and monitors realized performance; ``__default__`` adds the generator and the oracle
    benchmark that only synthetic data can have, and runs one ``weekly`` round at the end.
    """
    pipelines = tag_vertex_ai_steps(
        {name: _folder_pipeline(name) for name in FOLDERS}, VERTEX_AI_STEPS
    )
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

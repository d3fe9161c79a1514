"""Project pipelines: one per folder under ``pipelines/``, plus the compositions users run.

The folders are imported by name rather than through ``find_pipelines``: since Kedro 1.7,
``find_pipelines`` only loads the pipelines named on the command line (``--pipelines=X``), so a
composition such as ``end_to_end`` could not be built from it. tests/test_pipeline_registry.py
checks that every folder is registered.

Each folder pipeline is namespaced by its folder name, so Kedro-Viz opens one box per folder
(expanded on click) and a node is named ``<folder>.<node>`` (``kedro run
--nodes=candidate_generation.select_customer_weeks``). Dataset and parameter names are left as
they are (``prefix_datasets_with_namespace=False``): the catalog and parameters files name them.
"""

import importlib

from kedro.pipeline import Pipeline, pipeline

from recommender_ranking.vertex_ai_steps import tag_vertex_ai_steps

DATA_SIDE = ("data_preparation", "eda", "embeddings")
TRAINING = (
    "candidate_generation",
    "feature_engineering",
    "model_training",
    "model_evaluation",
    "model_registry",
)
SCORING = ("recommendations",)
FOLDERS = ("data_generation", *DATA_SIDE, *TRAINING, *SCORING)

# One Vertex AI step (one container) per entry, by what its nodes need: kedro-vertexai's
# TagNodeGrouper runs the nodes tagged "group.<step>" together, conf/gcp/vertexai.yml sizes each
# step from measured peaks (README, "Vertex AI").
VERTEX_AI_STEPS = {
    "prepare-data": ("data_generation", "data_preparation", "eda"),  # whole CSVs: memory
    "embed": ("embeddings",),  # GPU: MiniLM texts, image autoencoder
    "generate-candidates": ("candidate_generation",),  # SQL (BigQuery / DuckDB)
    "build-features": ("feature_engineering",),  # SQL features joined to candidates: memory
    "train-ranker": ("model_training",),  # CPU: LightGBM lambdarank, Optuna
    "evaluate-and-register": ("model_evaluation", "model_registry"),
    # Not "recommend": a step named as one of its nodes vanishes in TagNodeGrouper.
    "score-customers": ("recommendations",),  # the champion scores every customer, in chunks
}


def _folder_pipeline(name: str) -> Pipeline:
    return pipeline(
        importlib.import_module(f"recommender_ranking.pipelines.{name}").create_pipeline(),
        namespace=name,
        prefix_datasets_with_namespace=False,
    )


def register_pipelines() -> dict[str, Pipeline]:
    """Compose the folder pipelines into the ones a user runs.

    ``training`` and ``scoring`` run alone on persisted inputs (the same names for the same
    roles in every blueprint, docs/conventions.md); ``end_to_end`` is the path
    for real data (the Kaggle files in data/01_raw, or gs:// with ``--env=gcp``);
    ``__default__`` adds the generator, which only synthetic data has.
    """
    pipelines = tag_vertex_ai_steps(
        {name: _folder_pipeline(name) for name in FOLDERS}, VERTEX_AI_STEPS
    )
    training = sum((pipelines[name] for name in TRAINING), Pipeline([]))
    scoring = sum((pipelines[name] for name in SCORING), Pipeline([]))
    end_to_end = sum((pipelines[name] for name in DATA_SIDE), Pipeline([])) + training + scoring
    return {
        **pipelines,
        "training": training,
        "scoring": scoring,
        "end_to_end": end_to_end,
        "__default__": pipelines["data_generation"] + end_to_end,
    }

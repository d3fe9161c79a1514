"""Project pipelines: one per folder under ``pipelines/``, plus the compositions users run.

The folders are imported by name rather than with ``find_pipelines``: since Kedro 1.7,
``kedro run --pipelines=end_to_end`` makes ``find_pipelines`` load only a folder of that name,
which leaves the compositions below without their parts.

Each folder pipeline is namespaced by its folder name, so Kedro-Viz opens one box per folder
(expanded on click) and a node is named ``<folder>.<node>`` (``kedro run
--from-nodes=model_evaluation.gate_submission``). Dataset and parameter names are left as they
are (``prefix_datasets_with_namespace=False``): the catalog and parameters files name them.
"""

import importlib

from kedro.pipeline import Pipeline, pipeline

from recommender_gnn.vertex_ai_steps import tag_vertex_ai_steps

FOLDERS = (
    "data_generation",
    "data_preparation",
    "baselines",
    "model_training",
    "gnn_inference",
    "blend",
    "seen_items",
    "model_evaluation",
    "model_registry",
    "submission",
    "hm_sequences",
    "banking_data",
    "banking_models",
)

# One Vertex AI step (one container) per entry, by what its nodes need: kedro-vertexai's
# TagNodeGrouper runs the nodes tagged "group.<step>" together, conf/gcp/vertexai.yml sizes each
# step from measured peaks (README, "Vertex AI").
VERTEX_AI_STEPS = {
    "prepare-data": ("data_generation", "data_preparation"),  # reads the raw export: memory
    "fit-baselines": ("baselines",),  # SQL counts, kNN index, CPU tuning
    "train-gnn": ("model_training",),  # GPU
    "score-gnn": ("gnn_inference",),  # GPU, blocked top-k over the catalogue
    "evaluate": ("blend", "seen_items", "model_evaluation"),  # CPU, tables of candidates
    "register-and-submit": ("model_registry", "submission"),
    "hm-sequences": ("hm_sequences",),
    "banking-data": ("banking_data",),  # Santander format: its own runs, not end_to_end
    "banking-models": ("banking_models",),  # LightGBM on lag features, CPU; not end_to_end
}


# The node banking_end_to_end leaves out (real files), named in its folder's namespace.
GENERATOR = "banking_data.generate_santander"


def _folder_pipeline(name: str) -> Pipeline:
    return pipeline(
        importlib.import_module(f"recommender_gnn.pipelines.{name}.pipeline").create_pipeline(),
        namespace=name,
        prefix_datasets_with_namespace=False,
    )


def register_pipelines() -> dict[str, Pipeline]:
    """Compose the folder pipelines into the ones a user runs.

    ``training`` fits, tunes and compares every model on the persisted splits and writes the
    submission (the name of that role in every blueprint, docs/conventions.md; here it scores
    too, since the models are compared on their test-week predictions); ``end_to_end`` is the
    path for real OTTO files (data/01_raw, or gs:// with ``--env=gcp``); ``__default__`` puts
    the generator in front of it. ``banking`` (Santander format: generated data, then its
    models) is a separate run, outside ``__default__``; ``banking_end_to_end`` is its path for
    Kaggle's real ``train_ver2.csv``/``test_ver2.csv`` (banking_data without the generator,
    then banking_models).
    """
    pipelines = tag_vertex_ai_steps(
        {name: _folder_pipeline(name) for name in FOLDERS}, VERTEX_AI_STEPS
    )
    training = (
        pipelines["baselines"]
        + pipelines["model_training"]
        + pipelines["gnn_inference"]
        + pipelines["blend"]
        + pipelines["seen_items"]
        + pipelines["model_evaluation"]
        + pipelines["model_registry"]
        + pipelines["submission"]
    )
    end_to_end = pipelines["data_preparation"] + training
    banking_typing = pipelines["banking_data"].only_nodes(
        *(node.name for node in pipelines["banking_data"].nodes if node.name != GENERATOR)
    )
    return {
        **pipelines,
        "training": training,
        "end_to_end": end_to_end,
        "banking": pipelines["banking_data"] + pipelines["banking_models"],
        "banking_end_to_end": banking_typing + pipelines["banking_models"],
        "__default__": pipelines["data_generation"] + end_to_end,
    }

"""The registered pipelines are exactly the compositions the README (and the interfaces between
the two halves of the blueprint) promise, and every pipeline folder is registered."""

import importlib
import warnings
from pathlib import Path

import pytest
from kedro.framework.project import configure_project

from recommender_gnn.pipeline_registry import FOLDERS, register_pipelines

PIPELINES_FOLDER = Path(__file__).resolve().parents[1] / "src" / "recommender_gnn" / "pipelines"


@pytest.fixture(scope="module")
def registered():
    configure_project("recommender_gnn")
    return register_pipelines()


def nodes_of(registered, *names):
    return {node.name for name in names for node in registered[name].nodes}


def test_every_pipeline_folder_is_registered(registered):
    folders = {p.name for p in PIPELINES_FOLDER.iterdir() if (p / "pipeline.py").is_file()}
    assert folders == set(FOLDERS)
    assert folders <= set(registered)


def test_compositions(registered):
    models = (
        "baselines",
        "model_training",
        "gnn_inference",
        "blend",
        "seen_items",
        "model_evaluation",
        "model_registry",
        "submission",
    )
    assert nodes_of(registered, "training") == nodes_of(registered, *models)
    assert nodes_of(registered, "end_to_end") == nodes_of(registered, "data_preparation", *models)
    assert nodes_of(registered, "__default__") == nodes_of(
        registered, "data_generation", "data_preparation", *models
    )
    assert not nodes_of(registered, "hm_sequences") & nodes_of(registered, "__default__")
    assert not nodes_of(registered, "banking_data") & nodes_of(registered, "__default__")
    assert nodes_of(registered, "banking") == nodes_of(registered, "banking_data", "banking_models")
    assert not nodes_of(registered, "banking") & nodes_of(registered, "__default__")


def test_end_to_end_needs_only_the_raw_files(registered):
    # Everything else is produced inside the pipeline (or read from the MLflow registry).
    free = registered["end_to_end"].inputs()
    datasets = {name for name in free if not name.startswith("params:") and name != "parameters"}
    assert datasets == {
        "otto_train",
        "otto_test",
        "otto_test_labels",
        "oracle_next_items",
        "current_champion",
        # The baselines' SQL results, once per fit (they read the fit's sessions file by path).
        *(
            f"{fit}_{query}"
            for fit in ("train", "refit")
            for query in ("covisitation_counts", "covisitation_buy2buy", "transition_counts")
        ),
    }


def test_banking_end_to_end_is_banking_without_the_generator(registered):
    assert nodes_of(registered, "banking_end_to_end") == nodes_of(registered, "banking") - {
        "banking_data.generate_santander"
    }
    free = registered["banking_end_to_end"].inputs()
    datasets = {name for name in free if not name.startswith("params:") and name != "parameters"}
    # Kaggle's two files; the labels and the oracle load empty when absent (real data).
    assert datasets == {
        "santander_train_raw",
        "santander_test_raw",
        "santander_test_labels",
        "santander_oracle",
        "banking_current_champion",
    }


def test_every_node_runs_in_the_namespace_of_its_folder_pipeline():
    """Kedro-Viz draws one box per namespace: a folder pipeline without one would spill its nodes
    into the graph, and one interrupted by another (Kedro warns) would draw the two boxes as a
    cycle. The namespace renames nodes only, never datasets or parameters."""
    configure_project("recommender_gnn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registered = register_pipelines()
    assert not [str(w.message) for w in caught if "is interrupted" in str(w.message)]
    folder_of = {}
    for folder in FOLDERS:
        module = importlib.import_module(f"recommender_gnn.pipelines.{folder}.pipeline")
        bare = module.create_pipeline()
        assert registered[folder].datasets() == bare.datasets(), folder
        assert {node.name for node in registered[folder].nodes} == {
            f"{folder}.{node.name}" for node in bare.nodes
        }
        folder_of.update({node.name: folder for node in registered[folder].nodes})
    for name, pipeline in registered.items():
        namespaces = {node.name: (node.namespace or "").split(".")[0] for node in pipeline.nodes}
        assert namespaces == {node: folder_of[node] for node in namespaces}, name

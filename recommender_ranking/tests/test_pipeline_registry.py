"""Every pipeline folder is registered, and the compositions are the documented ones."""

import importlib
import warnings

from kedro.framework.startup import bootstrap_project

from recommender_ranking import pipeline_registry
from tests.kedro_cli import BLUEPRINT

PACKAGE = BLUEPRINT / "src" / "recommender_ranking"


def _nodes(pipelines, *names):
    return {node.name for name in names for node in pipelines[name].nodes}


def test_every_folder_is_registered_and_compositions_match_the_contract():
    bootstrap_project(BLUEPRINT)
    pipelines = pipeline_registry.register_pipelines()
    folders = {
        path.name
        for path in (PACKAGE / "pipelines").iterdir()
        if path.is_dir() and (path / "pipeline.py").is_file()
    }
    assert folders == set(pipeline_registry.FOLDERS)
    assert folders <= set(pipelines)
    training = (
        "candidate_generation",
        "feature_engineering",
        "model_training",
        "model_evaluation",
        "model_registry",
    )
    assert _nodes(pipelines, "training") == _nodes(pipelines, *training)
    assert _nodes(pipelines, "scoring") == _nodes(pipelines, "recommendations")
    end_to_end = ("data_preparation", "eda", "embeddings", *training, "recommendations")
    assert _nodes(pipelines, "end_to_end") == _nodes(pipelines, *end_to_end)
    assert _nodes(pipelines, "__default__") == _nodes(pipelines, "data_generation", *end_to_end)


def test_every_node_runs_in_the_namespace_of_its_folder_pipeline():
    """Kedro-Viz draws one box per namespace: a folder pipeline without one would spill its nodes
    into the graph, and one interrupted by another (Kedro warns) would draw the two boxes as a
    cycle. The namespace renames nodes only, never datasets or parameters."""
    bootstrap_project(BLUEPRINT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipelines = pipeline_registry.register_pipelines()
    assert not [str(w.message) for w in caught if "is interrupted" in str(w.message)]
    folder_of = {}
    for folder in pipeline_registry.FOLDERS:
        module = importlib.import_module(f"recommender_ranking.pipelines.{folder}")
        bare = module.create_pipeline()
        assert pipelines[folder].datasets() == bare.datasets(), folder
        assert {node.name for node in pipelines[folder].nodes} == {
            f"{folder}.{node.name}" for node in bare.nodes
        }
        folder_of.update({node.name: folder for node in pipelines[folder].nodes})
    for name, pipeline in pipelines.items():
        namespaces = {node.name: node.namespace for node in pipeline.nodes}
        assert namespaces == {node: folder_of[node] for node in namespaces}, name

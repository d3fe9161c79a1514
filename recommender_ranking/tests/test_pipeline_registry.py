"""Every pipeline folder is registered, and the compositions are the documented ones."""

from kedro.framework.startup import bootstrap_project

from recommender_ranking import pipeline_registry
from tests.conftest import BLUEPRINT

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
    assert _nodes(pipelines, "inference") == _nodes(pipelines, "recommendations")
    end_to_end = ("data_preparation", "eda", "embeddings", *training, "recommendations")
    assert _nodes(pipelines, "end_to_end") == _nodes(pipelines, *end_to_end)
    assert _nodes(pipelines, "__default__") == _nodes(pipelines, "data_generation", *end_to_end)

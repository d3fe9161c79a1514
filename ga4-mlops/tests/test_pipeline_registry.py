"""Every pipeline folder is registered (the registry imports them by name)."""

from ga4_mlops.pipeline_registry import FOLDER_PIPELINES, register_pipelines
from tests.conftest import BLUEPRINT


def test_every_pipeline_folder_is_registered_and_composed():
    folders = {
        path.name
        for path in (BLUEPRINT / "src" / "ga4_mlops" / "pipelines").iterdir()
        if path.is_dir() and not path.name.startswith("__")
    }
    assert {module.__name__.rsplit(".", 1)[-1] for module in FOLDER_PIPELINES} == folders
    registered = register_pipelines()
    assert folders | {"training", "scoring", "end_to_end", "weekly", "__default__"} == set(
        registered
    )
    every_node = {node.name for name in folders for node in registered[name].nodes}
    assert {node.name for node in registered["__default__"].nodes} == every_node

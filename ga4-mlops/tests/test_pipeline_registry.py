"""Every pipeline folder is registered (the registry imports them by name), in its namespace."""

import importlib
import warnings

from ga4_mlops.pipeline_registry import FOLDERS, register_pipelines
from tests.kedro_cli import BLUEPRINT


def test_every_pipeline_folder_is_registered_and_composed():
    folders = {
        path.name
        for path in (BLUEPRINT / "src" / "ga4_mlops" / "pipelines").iterdir()
        if path.is_dir() and not path.name.startswith("__")
    }
    assert set(FOLDERS) == folders
    registered = register_pipelines()
    assert folders | {"training", "scoring", "end_to_end", "weekly", "__default__"} == set(
        registered
    )
    every_node = {node.name for name in folders for node in registered[name].nodes}
    assert {node.name for node in registered["__default__"].nodes} == every_node


def test_every_node_runs_in_the_namespace_of_its_folder_pipeline():
    """Kedro-Viz draws one box per namespace: a folder pipeline without one would spill its nodes
    into the graph, and one interrupted by another (Kedro warns) would draw the two boxes as a
    cycle. The namespace renames nodes only, never datasets or parameters."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registered = register_pipelines()
    assert not [str(w.message) for w in caught if "is interrupted" in str(w.message)]
    folder_of = {}
    for folder in FOLDERS:
        bare = importlib.import_module(f"ga4_mlops.pipelines.{folder}").create_pipeline()
        assert registered[folder].datasets() == bare.datasets(), folder
        assert {node.name for node in registered[folder].nodes} == {
            f"{folder}.{node.name}" for node in bare.nodes
        }
        folder_of.update({node.name: folder for node in registered[folder].nodes})
    for name, composed in registered.items():
        namespaces = {node.name: node.namespace for node in composed.nodes}
        assert namespaces == {node: folder_of[node] for node in namespaces}, name

"""`kedro vertexai -e gcp compile` builds a Vertex AI pipeline spec offline: one step per entry
of VERTEX_AI_STEPS running its folders' nodes, the GNN's steps on a GPU, the others on CPU."""

import os
import re
from pathlib import Path

import pytest
from kedro.framework.project import pipelines

from recommender_gnn.pipeline_registry import VERTEX_AI_STEPS, tag_vertex_ai_steps
from tests.kedro_cli import VERTEX_IMAGE, compile_vertex_spec

END_TO_END_STEPS = set(VERTEX_AI_STEPS) - {"hm-sequences", "banking-data", "banking-models"}


def step_nodes(executor: dict) -> set[str]:
    (nodes,) = re.findall(r'--nodes "([^"]*)"', " ".join(executor["container"]["args"]))
    return set(nodes.split(","))


def test_compile_gives_one_vertex_step_per_group_and_a_gpu_for_the_gnn(tmp_path, monkeypatch):
    # CI keeps the compiled spec as an artifact when it names a path.
    spec_path = Path(os.environ.get("VERTEXAI_PIPELINE_SPEC") or tmp_path / "pipeline.yaml")
    spec = compile_vertex_spec(
        tmp_path, monkeypatch, "--pipeline", "end_to_end", spec_path=spec_path
    )
    assert set(spec["root"]["dag"]["tasks"]) == END_TO_END_STEPS | {"mlflow-start-run"}
    executors = spec["deploymentSpec"]["executors"]
    # Every node of end_to_end runs in exactly one step: the step of its folder pipeline.
    nodes_of = {
        name[len("exec-") :]: step_nodes(e) for name, e in executors.items() if "--nodes" in str(e)
    }
    expected = {
        step: {node.name for folder in folders for node in pipelines[folder].nodes}
        for step, folders in VERTEX_AI_STEPS.items()
        if step in END_TO_END_STEPS
    }
    expected["prepare-data"] = {node.name for node in pipelines["data_preparation"].nodes}
    assert nodes_of == expected
    commands = " ".join(" ".join(e["container"]["args"]) for e in executors.values())
    assert "kedro run -e gcp" in commands
    assert all(e["container"]["image"] == VERTEX_IMAGE for e in executors.values())
    resources = {
        name: executor["container"].get("resources", {}) for name, executor in executors.items()
    }
    accelerated = {name for name, resource in resources.items() if resource.get("accelerator")}
    assert accelerated == {"exec-train-gnn", "exec-score-gnn"}
    for name in accelerated:
        assert resources[name]["accelerator"]["type"] == "NVIDIA_TESLA_T4"
        assert int(resources[name]["accelerator"]["count"]) == 1
    # Each step above its largest node's peak measured at OTTO's size (benchmarks/RESULTS.md).
    memory = {name: resource.get("memoryLimit") for name, resource in resources.items()}
    gib = 1024**3 / 1e9
    measured_peak_gb = {
        "exec-prepare-data": 17.8,
        "exec-fit-baselines": 9.4,
        "exec-train-gnn": 10.6,
        "exec-score-gnn": 6.6,
        "exec-evaluate": 19.9,
        "exec-register-and-submit": 10.9,
    }
    for step, peak in measured_peak_gb.items():
        assert memory[step] > peak, step
    assert memory["exec-prepare-data"] == pytest.approx(32 * gib)
    assert memory["exec-evaluate"] == pytest.approx(32 * gib)


def test_every_folder_pipeline_has_a_vertex_ai_step():
    from kedro.pipeline import Node, Pipeline

    with pytest.raises(ValueError, match=r"\['new_folder'\] have no Vertex AI step"):
        tag_vertex_ai_steps(
            {"baselines": Pipeline([]), "new_folder": Pipeline([])}, VERTEX_AI_STEPS
        )
    named_as_a_step = Pipeline([Node(len, "a", "b", name="evaluate")])
    with pytest.raises(ValueError, match=r"\['evaluate'\] are named as a node"):
        tag_vertex_ai_steps({"baselines": named_as_a_step}, VERTEX_AI_STEPS)
    gnn_nodes = [node for node in pipelines["__default__"].nodes if "gnn_training" in node.tags]
    assert gnn_nodes and all("group.train-gnn" in node.tags for node in gnn_nodes)

"""`kedro vertexai -e gcp compile` builds a Vertex AI pipeline spec offline: one step per entry
of VERTEX_AI_STEPS running its folders' nodes, each step with its CPUs and memory."""

import os
import re
from pathlib import Path

import pytest
from kedro.framework.project import pipelines

from ga4_mlops.pipeline_registry import (
    VERTEX_AI_STEPS,
    register_pipelines,
    tag_vertex_ai_steps,
)
from tests.kedro_cli import compile_vertex_spec


def step_nodes(executor: dict) -> set[str]:
    (nodes,) = re.findall(r'--nodes "([^"]*)"', " ".join(executor["container"]["args"]))
    return set(nodes.split(","))


def expected_steps(pipeline: str) -> dict[str, set[str]]:
    """Each step's nodes within ``pipeline``: the nodes of its folders that the pipeline runs."""
    compiled = {node.name for node in pipelines[pipeline].nodes}
    steps = {
        step: {node.name for folder in folders for node in pipelines[folder].nodes} & compiled
        for step, folders in VERTEX_AI_STEPS.items()
    }
    return {step: nodes for step, nodes in steps.items() if nodes}


def compiled_steps(spec: dict) -> dict[str, set[str]]:
    executors = spec["deploymentSpec"]["executors"]
    return {
        name[len("exec-") :]: step_nodes(executor)
        for name, executor in executors.items()
        if "--nodes" in str(executor)
    }


def test_compile_gives_one_vertex_step_per_group(tmp_path, monkeypatch):
    # CI keeps the compiled spec as an artifact when it names a path.
    spec_path = Path(os.environ.get("VERTEXAI_PIPELINE_SPEC") or tmp_path / "pipeline.yaml")
    spec = compile_vertex_spec(
        tmp_path, monkeypatch, "--pipeline", "end_to_end", spec_path=spec_path
    )
    expected = expected_steps("end_to_end")
    # end_to_end reads real data and has no oracle: no generator, no weekly round.
    assert set(expected) == {
        "extract-features",
        "train",
        "evaluate-and-explain",
        "register",
        "score-and-monitor",
    }
    assert set(spec["root"]["dag"]["tasks"]) == set(expected) | {"mlflow-start-run"}
    # Every node of end_to_end runs in exactly one step: the step of its folder pipeline.
    assert compiled_steps(spec) == expected
    executors = spec["deploymentSpec"]["executors"]
    commands = " ".join(" ".join(e["container"]["args"]) for e in executors.values())
    assert "kedro run -e gcp" in commands
    assert all(e["container"]["image"].endswith("ga4-mlops:test") for e in executors.values())
    resources = {
        name: executor["container"].get("resources", {}) for name, executor in executors.items()
    }
    assert not any(resource.get("accelerator") for resource in resources.values())
    memory = {name: resource.get("memoryLimit") for name, resource in resources.items()}
    cpu = {name: resource.get("cpuLimit") for name, resource in resources.items()}
    # The feature query's result and the tuning need the big steps; the registry the default.
    assert memory["exec-extract-features"] == pytest.approx(16 * 1024**3 / 1e9)  # 16Gi, in GB
    assert memory["exec-train"] == pytest.approx(16 * 1024**3 / 1e9)
    assert (memory["exec-evaluate-and-explain"], cpu["exec-evaluate-and-explain"]) == (
        pytest.approx(8 * 1024**3 / 1e9),
        4,
    )
    assert memory["exec-register"] == pytest.approx(4 * 1024**3 / 1e9)


def test_every_folder_pipeline_has_a_vertex_ai_step():
    from kedro.pipeline import Node, Pipeline

    with pytest.raises(ValueError, match=r"\['new_folder'\] have no Vertex AI step"):
        tag_vertex_ai_steps(
            {"inference": Pipeline([]), "new_folder": Pipeline([])}, VERTEX_AI_STEPS
        )
    named_as_a_step = Pipeline([Node(len, "a", "b", name="register")])
    with pytest.raises(ValueError, match=r"\['register'\] are named as a node"):
        tag_vertex_ai_steps({"inference": named_as_a_step}, VERTEX_AI_STEPS)
    default = register_pipelines()["__default__"]
    (tuning,) = [
        node for node in default.nodes if node.name == "model_training.tune_hyperparameters"
    ]
    assert "group.train" in tuning.tags
    # Every node of __default__ carries exactly one step's tag.
    for node in default.nodes:
        assert len([tag for tag in node.tags if tag.startswith("group.")]) == 1, node.name

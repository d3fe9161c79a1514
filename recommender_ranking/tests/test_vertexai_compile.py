"""`kedro vertexai -e gcp compile` builds a Vertex AI pipeline spec offline: one step per entry
of VERTEX_AI_STEPS running its folders' nodes, a GPU for the embeddings, more memory for the
data and feature steps."""

import os
import re
from pathlib import Path

import pytest
from kedro.framework.project import pipelines

from recommender_ranking.pipeline_registry import VERTEX_AI_STEPS, tag_vertex_ai_steps
from tests.kedro_cli import VERTEX_IMAGE, compile_vertex_spec

GiB = 1024**3 / 1e9  # the spec's memory unit is GB


def step_nodes(executor: dict) -> set[str]:
    (nodes,) = re.findall(r'--nodes "([^"]*)"', " ".join(executor["container"]["args"]))
    return set(nodes.split(","))


def test_compile_gives_one_vertex_step_per_group(tmp_path, monkeypatch):
    # CI keeps the compiled spec as an artifact when it names a path.
    spec_path = Path(os.environ.get("VERTEXAI_PIPELINE_SPEC") or tmp_path / "pipeline.yaml")
    spec = compile_vertex_spec(
        tmp_path, monkeypatch, "--pipeline", "end_to_end", spec_path=spec_path
    )
    end_to_end = {node.name for node in pipelines["end_to_end"].nodes}
    expected = {
        step: {node.name for folder in folders for node in pipelines[folder].nodes} & end_to_end
        for step, folders in VERTEX_AI_STEPS.items()
    }
    assert set(spec["root"]["dag"]["tasks"]) == set(expected) | {"mlflow-start-run"}
    executors = spec["deploymentSpec"]["executors"]
    # Every node of end_to_end runs in exactly one step: the step of its folder pipeline.
    steps = {name[len("exec-") :]: e for name, e in executors.items() if "--nodes" in str(e)}
    assert {step: step_nodes(executor) for step, executor in steps.items()} == expected
    commands = " ".join(" ".join(e["container"]["args"]) for e in executors.values())
    assert "kedro run -e gcp" in commands
    assert all(e["container"]["image"] == VERTEX_IMAGE for e in executors.values())
    resources = {
        step: executor["container"].get("resources", {}) for step, executor in steps.items()
    }
    assert {step for step, r in resources.items() if r.get("accelerator")} == {"embed"}
    assert resources["embed"]["accelerator"]["count"] == "1"
    assert resources["embed"]["accelerator"]["type"] == "NVIDIA_TESLA_T4"
    # each step's memory from vertexai.yml (measured peaks), not the 8Gi default
    memory = {step: r["memoryLimit"] / GiB for step, r in resources.items()}
    assert memory == pytest.approx({**dict.fromkeys(steps, 16), "build-features": 32})


def test_every_folder_pipeline_has_a_vertex_ai_step():
    from kedro.pipeline import Node, Pipeline

    with pytest.raises(ValueError, match=r"\['new_folder'\] have no Vertex AI step"):
        tag_vertex_ai_steps({"eda": Pipeline([]), "new_folder": Pipeline([])}, VERTEX_AI_STEPS)
    named_as_a_step = Pipeline([Node(len, "a", "b", name="embed")])
    with pytest.raises(ValueError, match=r"\['embed'\] are named as a node"):
        tag_vertex_ai_steps({"eda": named_as_a_step}, VERTEX_AI_STEPS)
    gpu_nodes = [node for node in pipelines["__default__"].nodes if "gpu" in node.tags]
    assert gpu_nodes and all("group.embed" in node.tags for node in gpu_nodes)

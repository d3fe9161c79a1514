"""Vertex AI steps from folder pipelines: kedro-vertexai's TagNodeGrouper runs the nodes tagged
``group.<step>`` in one container (conf/gcp/vertexai.yml: ``grouping``, and ``resources`` per
step). Each blueprint's pipeline_registry names the folder pipelines of each step."""

from kedro.pipeline import Pipeline


def tag_vertex_ai_steps(
    pipelines: dict[str, Pipeline], steps: dict[str, tuple[str, ...]]
) -> dict[str, Pipeline]:
    """Tag each folder pipeline with its step, so every composition of them carries it."""
    step_of = {folder: step for step, folders in steps.items() for folder in folders}
    if missing := sorted(set(pipelines) - set(step_of)):
        raise ValueError(f"pipeline folders {missing} have no Vertex AI step in VERTEX_AI_STEPS")
    nodes = {node.name for pipeline in pipelines.values() for node in pipeline.nodes}
    if clash := sorted(set(steps) & nodes):
        # TagNodeGrouper replaces a node's group by the step, then deletes the node's own name.
        raise ValueError(f"Vertex AI steps {clash} are named as a node: TagNodeGrouper drops them")
    return {name: pipeline.tag(f"group.{step_of[name]}") for name, pipeline in pipelines.items()}

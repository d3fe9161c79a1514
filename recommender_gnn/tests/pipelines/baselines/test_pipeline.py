"""The proposed baselines pipeline: validation candidates from the train fit, test candidates
from the refit, every SQL dataset read through a node that waits for data_preparation."""

from recommender_gnn.pipelines.baselines import create_pipeline
from recommender_gnn.pipelines.baselines.pipeline import STATES


def test_validation_uses_the_train_fit_and_the_test_week_the_refit():
    pipeline = create_pipeline()
    nodes = {node.name: node for node in pipeline.nodes}
    for model, state in STATES.items():
        assert nodes[f"recommend_{model}_valid"].inputs == [
            "valid_sessions", f"train_{state}", f"{model}_best_params"
        ]  # fmt: skip
        assert nodes[f"recommend_{model}_test"].inputs == [
            "test_sessions", f"refit_{state}", f"{model}_best_params"
        ]  # fmt: skip
        assert nodes[f"tune_{model}"].inputs[0] == f"train_{state}"
        assert "test_sessions" not in nodes[f"tune_{model}"].inputs
    outputs = pipeline.outputs()
    for model in STATES:
        assert {f"{model}_valid_candidates", f"{model}_test_candidates"} <= outputs


def test_each_sql_dataset_feeds_a_node_that_also_waits_for_the_sessions_file():
    pipeline = create_pipeline()
    sql = {"covisitation_counts", "covisitation_buy2buy", "transition_counts"}
    for node in pipeline.nodes:
        for fit in ("train", "refit"):
            if {f"{fit}_{name}" for name in sql} & set(node.inputs):
                assert f"{fit}_items" in node.inputs, node.name
    producer = {output: node for node in pipeline.nodes for output in node.outputs}
    assert producer["train_items"].inputs == ["train_sessions"]
    assert producer["refit_items"].inputs == ["refit_sessions"]

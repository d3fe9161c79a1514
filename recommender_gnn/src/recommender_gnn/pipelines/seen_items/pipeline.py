"""One policy per model: chosen on validation, applied to the validation candidates. Its
application to the test candidates (the test week of every model, or of the submitted one only:
model_selection.test_week_models) comes after the gate, so model_evaluation runs those nodes
(``policy_on_test_week``): this folder's namespace then ends before model_evaluation's begins, as
Kedro (and Kedro-Viz's one box per namespace) requires."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from .nodes import apply_policy, apply_test_policy, choose_policy

# Every model whose `<model>_valid_candidates` and `<model>_test_candidates` exist.
MODELS = ("popularity", "covisitation", "transitions", "sknn", "gnn", "blend")


def create_pipeline(models=MODELS, **kwargs) -> Pipeline:
    nodes = []
    for model in models:
        chooser = update_wrapper(partial(choose_policy, model=model), choose_policy)
        nodes += [
            Node(
                func=chooser,
                inputs=[
                    f"{model}_valid_candidates",
                    "valid_sessions",
                    "valid_labels",
                    "train_popular_items",
                    "params:model_selection",
                ],
                outputs=[f"{model}_seen_policy", f"{model}_seen_policy_search"],
                name=f"choose_{model}_seen_policy",
            ),
            Node(
                func=apply_policy,
                inputs=[
                    f"{model}_valid_candidates",
                    "valid_sessions",
                    "train_popular_items",
                    f"{model}_seen_policy",
                    "params:model_selection",
                ],
                outputs=f"{model}_valid_predictions",
                name=f"{model}_valid_predictions",
            ),
        ]
    return Pipeline(nodes)


def policy_on_test_week(models=MODELS) -> list[Node]:
    """Each model's policy on its test candidates, for every model or only the one the gate
    submits (``submission_decision``): part of model_evaluation's pipeline."""
    nodes = []
    for model in models:
        tester = update_wrapper(partial(apply_test_policy, model=model), apply_test_policy)
        nodes += [
            Node(
                func=tester,
                inputs=[
                    f"{model}_test_candidates",
                    "test_sessions",
                    "refit_popular_items",
                    f"{model}_seen_policy",
                    "params:model_selection",
                    "submission_decision",
                ],
                outputs=f"{model}_predictions",
                name=f"{model}_test_predictions",
            ),
        ]
    return nodes

"""The baselines: fit on train_sessions (validation, tuning) and on refit_sessions (the test
week), tuned on validation like every model, candidates (new items only) for both splits.

Per fit (``train``, ``refit``): ``{fit}_items`` (what the SQL fits are checked against and
ordered by), ``{fit}_popular_items``, ``{fit}_covisitation_neighbours`` (from the SQL datasets
``{fit}_covisitation_counts`` and ``{fit}_covisitation_buy2buy``), ``{fit}_transitions_successors``
(``{fit}_transition_counts``), ``{fit}_sknn_index``. Per model:
``{model}_best_params``, ``{model}_tuning_trials``, ``{model}_valid_candidates`` (train fit),
``{model}_test_candidates`` (refit fit, the parameters chosen on validation).
"""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from .nodes import (
    RECOMMENDERS,
    fit_covisitation,
    fit_items,
    fit_popularity,
    fit_sknn,
    fit_transitions,
    tune_baseline,
)

FITS = ("train", "refit")
# model -> the dataset (after "<fit>_") holding its fitted state
STATES = {
    "popularity": "popular_items",
    "covisitation": "covisitation_neighbours",
    "transitions": "transitions_successors",
    "sknn": "sknn_index",
}


def _named(func, **kwargs):
    return update_wrapper(partial(func, **kwargs), func)


def create_pipeline(models=tuple(STATES), **kwargs) -> Pipeline:
    nodes = []
    for fit in FITS:
        sessions = f"{fit}_sessions"
        nodes += [
            Node(
                func=fit_items,
                inputs=sessions,
                outputs=f"{fit}_items",
                name=f"fit_items_{fit}",
            ),
            Node(
                func=fit_popularity,
                inputs=[sessions, "params:baselines.popularity"],
                outputs=f"{fit}_popular_items",
                name=f"fit_popularity_{fit}",
            ),
            Node(
                func=fit_covisitation,
                inputs=[
                    f"{fit}_covisitation_counts",
                    f"{fit}_covisitation_buy2buy",
                    f"{fit}_items",
                ],
                outputs=f"{fit}_covisitation_neighbours",
                name=f"fit_covisitation_{fit}",
            ),
            Node(
                func=fit_transitions,
                inputs=[f"{fit}_transition_counts", f"{fit}_items"],
                outputs=f"{fit}_transitions_successors",
                name=f"fit_transitions_{fit}",
            ),
            Node(
                func=fit_sknn,
                inputs=[sessions, "params:baselines.sknn"],
                outputs=f"{fit}_sknn_index",
                name=f"fit_sknn_{fit}",
            ),
        ]
    for model in models:
        state = STATES[model]
        nodes += [
            Node(
                func=_named(tune_baseline, model=model),
                inputs=[
                    f"train_{state}",
                    "valid_sessions",
                    "valid_labels",
                    "train_popular_items",
                    f"params:baselines.{model}",
                    "params:model_selection",
                ],
                outputs=[f"{model}_best_params", f"{model}_tuning_trials"],
                name=f"tune_{model}",
            ),
            Node(
                func=RECOMMENDERS[model],
                inputs=["valid_sessions", f"train_{state}", f"{model}_best_params"],
                outputs=f"{model}_valid_candidates",
                name=f"recommend_{model}_valid",
            ),
            Node(
                func=RECOMMENDERS[model],
                inputs=["test_sessions", f"refit_{state}", f"{model}_best_params"],
                outputs=f"{model}_test_candidates",
                name=f"recommend_{model}_test",
            ),
        ]
    return Pipeline(nodes)

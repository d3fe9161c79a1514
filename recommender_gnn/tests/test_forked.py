"""``processes``: every chunked step gives the same result in forked workers as here."""

import os

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.forked import map_forked
from recommender_gnn.model_selection.policy import apply_seen_policy, choose_seen_policy
from recommender_gnn.pipelines.baselines.candidates import fit_items
from recommender_gnn.pipelines.baselines.covisitation import (
    fit_covisitation,
    recommend_covisitation,
)
from recommender_gnn.pipelines.baselines.popularity import fit_popularity, recommend_popularity
from recommender_gnn.pipelines.baselines.transitions import fit_transitions, recommend_transitions
from recommender_gnn.pipelines.blend.nodes import blend_candidates
from tests.pipelines.baselines.sql_helpers import random_sessions, run_query

CHUNK = {"sessions_per_chunk": 30, "top_k": 20, "history_events": 30}
SEEN_ITEMS = {
    "top_k": 20,
    "rank_offset": 1.0,
    "weights": [0.0, 0.5, 2.0, float("inf")],
    "history": {"type_weights": [1.0, 6.0, 3.0], "decay": 0.9},
    "sessions_per_chunk": 40,
}


def _session_and_process(item):
    return item, os.getpid()


def test_map_forked_runs_in_other_processes_in_order():
    found = map_forked(_session_and_process, range(9), processes=2)
    assert [item for item, _ in found] == list(range(9))
    assert os.getpid() not in {pid for _, pid in found}
    assert map_forked(_session_and_process, range(9), None)[0] == (0, os.getpid())


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Candidates of three baselines on random sessions, fit through their real SQL."""
    tmp_path = tmp_path_factory.mktemp("forked")
    train, query = random_sessions(seed=1, n_sessions=400), random_sessions(seed=2)
    items = fit_items(train)
    counts = run_query(tmp_path, "covisitation_counts", train, {
        "max_events_per_session": 30, "window_seconds": 86_400, "time_weight": 3.0,
        "click_weight": 1.0, "cart_weight": 6.0, "order_weight": 3.0, "clicks_top_k": 20,
        "carts_orders_top_k": 15, "parts": 1, "part": 0})  # fmt: skip
    buy2buy = run_query(tmp_path, "covisitation_buy2buy", train, {
        "max_events_per_session": 30, "window_seconds": 1_209_600, "top_k": 15})  # fmt: skip
    successors = run_query(tmp_path, "transition_counts", train, {
        "max_events_per_session": 30, "max_steps": 3, "step_decay": 0.5,
        "window_seconds": 86_400, "top_k": 20})  # fmt: skip
    popular = fit_popularity(
        train, {"top_k": 20, "popularity_days": 7, "list_length": 30, "sessions_per_chunk": 30}
    )
    covisitation = fit_covisitation(counts, buy2buy, items)
    transitions = fit_transitions(successors, items)
    covisitation_params = {**CHUNK, "cart_weight": 6.0, "order_weight": 3.0, "clicks_decay": 0.8,
        "buys_decay": 0.8, "buy2buy_weight": 1.0, "neighbour_power": 0.0}  # fmt: skip
    transitions_params = {**CHUNK, "cart_weight": 1.0, "order_weight": 1.0,
        "history_decay": 0.5, "neighbour_power": 1.0}  # fmt: skip
    recommenders = {
        "covisitation": lambda p: recommend_covisitation(
            query, covisitation, {**covisitation_params, **p}
        ),
        "transitions": lambda p: recommend_transitions(
            query, transitions, {**transitions_params, **p}
        ),
        "popularity": lambda p: recommend_popularity(query, popular, {**CHUNK, **p}),
    }
    return query, popular, recommenders


@pytest.mark.parametrize("model", ["covisitation", "transitions"])
def test_baseline_candidates_are_the_same_in_forked_workers(fitted, model):
    _, _, recommenders = fitted
    here = recommenders[model]({"processes": 1})
    assert here["session"].nunique() > 100  # several chunks of 30 sessions
    pd.testing.assert_frame_equal(recommenders[model]({"processes": 2}), here)


def test_blend_and_seen_policy_are_the_same_in_forked_workers(fitted):
    query, popular, recommenders = fitted
    members = {name: make({}) for name, make in recommenders.items()}
    weights = {"covisitation": 1.0, "transitions": 0.5, "popularity": 0.2}
    blended = blend_candidates(members, weights, 20, 10.0, sessions_per_chunk=25)
    pd.testing.assert_frame_equal(
        blend_candidates(members, weights, 20, 10.0, sessions_per_chunk=25, processes=2), blended
    )
    policy = {"clicks": 0.5, "carts": float("inf"), "orders": 0.0}
    applied = apply_seen_policy(blended, query, popular, policy, SEEN_ITEMS)
    assert applied["session"].nunique() > 100
    pd.testing.assert_frame_equal(
        apply_seen_policy(blended, query, popular, policy, {**SEEN_ITEMS, "processes": 2}),
        applied,
    )
    labels = (
        query.groupby("session")
        .tail(1)
        .assign(event_type=lambda frame: np.array(["clicks", "carts", "orders"])[frame["type"]])
    )
    chosen, table = choose_seen_policy(blended, query, labels, popular, SEEN_ITEMS)
    assert table[["clicks", "carts", "orders"]].to_numpy().std() > 0  # the weights differ
    forked = choose_seen_policy(blended, query, labels, popular, {**SEEN_ITEMS, "processes": 2})
    assert forked[0] == chosen
    pd.testing.assert_frame_equal(forked[1], table)

"""Co-visitation scoring on hand-made matrices and sessions, and the fit's checks."""

import pandas as pd
import pytest

from recommender_gnn.pipelines.baselines.candidates import fit_items
from recommender_gnn.pipelines.baselines.covisitation import (
    fit_covisitation,
    recommend_covisitation,
)
from recommender_gnn.pipelines.baselines.transitions import fit_transitions, recommend_transitions
from tests.pipelines.baselines.sql_helpers import run_query

PARAMS = {
    "top_k": 20,
    "history_events": 30,
    "cart_weight": 6.0,
    "order_weight": 3.0,
    "clicks_decay": 0.5,
    "buys_decay": 0.5,
    "buy2buy_weight": 1.0,
    "neighbour_power": 0.0,
    "sessions_per_chunk": 100,
}


def neighbours(rows):
    frame = pd.DataFrame(rows, columns=["matrix", "item", "neighbour", "weight"])
    frame["rank"] = frame.groupby(["matrix", "item"]).cumcount() + 1
    return frame


# Item 1 (clicked last) and item 2 (carted one step earlier) vote 1 and 6 x 0.5 = 3.
SESSION = pd.DataFrame({"session": [0, 0], "item": [2, 1], "ts": [10, 20], "type": [1, 0]})
MATRICES = neighbours(
    [
        ("clicks", 1, 5, 1.0),
        ("clicks", 1, 6, 10.0),
        ("clicks", 2, 7, 4.0),
        ("carts_orders", 1, 2, 50.0),  # the session's own item: never a candidate
        ("carts_orders", 1, 8, 9.0),
        ("carts_orders", 2, 9, 9.0),
        ("buy2buy", 2, 10, 1.0),
        ("buy2buy", 1, 11, 1.0),  # item 1 was only clicked: its buy2buy neighbours do not vote
    ]
)


def lists(candidates):
    return {
        event_type: part["item"].tolist()
        for event_type, part in candidates.groupby("event_type", observed=True)
    }


def test_each_list_votes_through_its_own_matrices():
    found = lists(recommend_covisitation(SESSION, MATRICES, PARAMS))
    assert found["clicks"] == [7, 5, 6]  # 7 gets 3; 5 and 6 get 1 each (counted): id order
    assert found["carts"] == found["orders"] == [9, 8, 10]  # 3, 1, then buy2buy 1 x 1 (id)
    boosted = lists(recommend_covisitation(SESSION, MATRICES, {**PARAMS, "buy2buy_weight": 5}))
    assert boosted["carts"] == [10, 9, 8]


def test_neighbour_power_follows_the_matrix_weights():
    counted = lists(recommend_covisitation(SESSION, MATRICES, PARAMS))["clicks"]
    weighted = lists(recommend_covisitation(SESSION, MATRICES, {**PARAMS, "neighbour_power": 1}))
    assert counted.index(5) < counted.index(6)
    assert weighted["clicks"] == [7, 6, 5]  # 6 is item 1's strongest neighbour (10 vs 1)


def test_the_recency_decay_decides_which_history_item_counts_most():
    # Decay 0.1: item 2 (one step back, carted) votes 6 x 0.1 = 0.6 < item 1's 1.
    found = lists(recommend_covisitation(SESSION, MATRICES, {**PARAMS, "clicks_decay": 0.1}))
    assert found["clicks"] == [5, 6, 7]


def test_fit_types_the_matrices_and_rejects_counts_of_another_table():
    counts = pd.DataFrame(
        {"matrix": ["clicks", "carts_orders"], "item": [1, 2], "neighbour": [2, 1],
         "weight": [1.5, 2.0], "rank": [1, 1]}
    )  # fmt: skip
    buy2buy = pd.DataFrame({"item": [2], "neighbour": [1], "weight": [1.0], "rank": [1]})
    sessions = pd.DataFrame({"session": [0, 0], "item": [1, 2], "ts": [0, 1], "type": [0, 1]})
    items = fit_items(sessions)
    assert items.to_dict("list") == {"item": [1, 2], "events": [1, 1]}
    fitted = fit_covisitation(counts, buy2buy, items)
    assert fitted["matrix"].tolist() == ["clicks", "carts_orders", "buy2buy"]
    assert fitted.dtypes.astype(str).tolist() == ["category", "int32", "int32", "float32", "int16"]
    with pytest.raises(ValueError, match=r"covisitation_counts field 'item' holds 1 rows of"):
        fit_covisitation(counts.assign(item=[1, 42]), buy2buy, items)
    with pytest.raises(ValueError, match=r"covisitation_counts field 'matrix' holds 'buy"):
        fit_covisitation(counts.assign(matrix=["clicks", "buy2buy"]), buy2buy, items)


def test_a_planted_transition_ranks_first_for_transitions_not_for_covisitation(tmp_path):
    # 30 sessions go 1 -> 2, 60 go 3 -> 1: after 1 comes 2, but 1 is met with 3 more often.
    rows = [(s, item, 100 * s + step, 0) for s in range(30) for step, item in enumerate((1, 2))]
    rows += [
        (s, item, 100 * s + step, 0) for s in range(30, 90) for step, item in enumerate((3, 1))
    ]
    train = pd.DataFrame(rows, columns=["session", "item", "ts", "type"])
    query = pd.DataFrame({"session": [7], "item": [1], "ts": [0], "type": [0]})
    counts = run_query(tmp_path, "covisitation_counts", train, {
        "max_events_per_session": 30, "window_seconds": 86_400, "time_weight": 0.0,
        "click_weight": 1.0, "cart_weight": 6.0, "order_weight": 3.0, "clicks_top_k": 20,
        "carts_orders_top_k": 20, "parts": 1, "part": 0})  # fmt: skip
    buy2buy = run_query(tmp_path, "covisitation_buy2buy", train, {
        "max_events_per_session": 30, "window_seconds": 86_400, "top_k": 20})  # fmt: skip
    transitions = run_query(tmp_path, "transition_counts", train, {
        "max_events_per_session": 30, "max_steps": 3, "step_decay": 0.5,
        "window_seconds": 86_400, "top_k": 20})  # fmt: skip
    covisited = recommend_covisitation(
        query,
        fit_covisitation(counts, buy2buy, fit_items(train)),
        {**PARAMS, "neighbour_power": 1.0},
    )
    followed = recommend_transitions(query, fit_transitions(transitions, fit_items(train)), {
        "top_k": 20, "history_events": 30, "cart_weight": 1.0, "order_weight": 1.0,
        "history_decay": 0.5, "neighbour_power": 1.0, "sessions_per_chunk": 10})  # fmt: skip
    assert lists(covisited)["clicks"] == [3, 2]
    assert lists(followed)["clicks"] == [2]  # nothing ever came after 1 but 2

"""Transitions (Markov) scoring on hand-made successors."""

import pandas as pd
import pytest

from recommender_gnn.pipelines.baselines.transitions import fit_transitions, recommend_transitions

PARAMS = {
    "top_k": 20,
    "history_events": 30,
    "cart_weight": 1.0,
    "order_weight": 1.0,
    "history_decay": 0.5,
    "neighbour_power": 1.0,
    "sessions_per_chunk": 100,
}
SUCCESSORS = pd.DataFrame(
    {
        "item": [1, 1, 2, 2, 3],
        "successor": [5, 6, 6, 7, 1],
        "weight": [4.0, 2.0, 4.0, 1.0, 9.0],
        "rank": [1, 2, 1, 2, 1],
    }
)


def items(candidates, event_type="clicks"):
    return candidates.loc[candidates["event_type"] == event_type, "item"].tolist()


def test_the_last_item_leads_and_earlier_items_decay():
    # 2 then 1 (last). Votes: 1 -> 1, 2 -> 0.5. Successors (weight / item's largest):
    # 5: 1 x 1 = 1; 6: 1 x 0.5 + 0.5 x 1 = 1; 7: 0.5 x 0.25. Tie 5/6 -> smaller id.
    session = pd.DataFrame({"session": [0, 0], "item": [2, 1], "ts": [1, 2], "type": [0, 0]})
    found = recommend_transitions(session, SUCCESSORS, PARAMS)
    assert items(found) == [5, 6, 7]
    assert items(found) == items(found, "carts") == items(found, "orders")
    scores = found.loc[found["event_type"] == "clicks", "score"].tolist()
    assert scores == pytest.approx([1.0, 1.0, 0.125])
    # Without decay item 2 counts as much as 1: 6 (1.5) overtakes 5 (1).
    undecayed = recommend_transitions(session, SUCCESSORS, {**PARAMS, "history_decay": 1.0})
    assert items(undecayed)[0] == 6


def test_successors_in_the_session_are_left_out():
    session = pd.DataFrame({"session": [0, 0], "item": [1, 3], "ts": [1, 2], "type": [0, 0]})
    assert items(recommend_transitions(session, SUCCESSORS, PARAMS)) == [5, 6]  # not 1


def test_fit_rejects_counts_of_another_table():
    sessions = pd.DataFrame({"session": [0], "item": [1], "ts": [0], "type": [0]})
    with pytest.raises(ValueError, match=r"transition_counts field 'item' holds 3 rows"):
        fit_transitions(SUCCESSORS, sessions)

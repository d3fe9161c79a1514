"""The test week is predicted for every model, or for the submitted one only."""

import pandas as pd
import pytest

from recommender_gnn.pipelines.seen_items.nodes import apply_test_policy

SESSIONS = pd.DataFrame({"session": [1, 1], "item": [10, 11], "ts": [1, 2], "type": [0, 0]})
CANDIDATES = pd.DataFrame(
    {
        "session": 1,
        "event_type": ["clicks", "carts", "orders"],
        "item": 20,
        "rank": 1,
        "score": 1.0,
    }
)
POPULAR = pd.DataFrame({"event_type": ["clicks", "carts", "orders"], "item": 30, "rank": 1})
POLICY = {"weights": {"clicks": 0.0, "carts": "first", "orders": 0.0}}
SELECTION = {
    "seen_items": {
        "top_k": 3,
        "rank_offset": 1.0,
        "history": {"type_weights": [1.0, 6.0, 3.0], "decay": 0.5},
    }
}
DECISION = {"submitted_model": "blend"}


def predict(model, scope):
    selection = {**SELECTION, "test_week_models": scope}
    return apply_test_policy(CANDIDATES, SESSIONS, POPULAR, POLICY, selection, DECISION, model)


def test_only_the_submitted_model_predicts_the_test_week_when_so_configured():
    assert predict("covisitation", "submitted").empty
    submitted = predict("blend", "submitted")
    assert predict("covisitation", "all").equals(submitted)
    carts = submitted[submitted["event_type"] == "carts"].sort_values("rank")["item"]
    assert carts.tolist() == [11, 10, 20]  # "first": the session's items lead


def test_an_unknown_scope_is_refused_by_name():
    with pytest.raises(ValueError, match=r"model_selection\.test_week_models is 'some'"):
        predict("blend", "some")

"""The seen-item policy: merging, leaving out, filling, and the choice on validation."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.model_selection.policy import (
    apply_seen_policy,
    choose_seen_policy,
    policy_scores,
    session_history,
)

PARAMS = {
    "top_k": 3,
    "rank_offset": 1.0,
    "weights": [0.0, 0.5, 1.0, 2.0, float("inf")],
    "history": {"type_weights": [1.0, 6.0, 3.0], "decay": 0.5},
}
# Session 1 clicked 10, carted 11, then clicked 12 (the last event).
SESSIONS = pd.DataFrame(
    {"session": [1, 1, 1], "item": [10, 11, 12], "ts": [1, 2, 3], "type": [0, 1, 0]}
)
POPULAR = pd.DataFrame(
    {
        "event_type": ["clicks"] * 3 + ["carts"] * 3 + ["orders"] * 3,
        "item": [10, 90, 91] * 3,
        "rank": [1, 2, 3] * 3,
    }
)


def candidates(items):
    return pd.DataFrame(
        {
            "session": 1,
            "event_type": np.repeat(["clicks", "carts", "orders"], len(items)),
            "item": np.tile(items, 3),
            "rank": np.tile(np.arange(1, len(items) + 1), 3),
            "score": 0.0,
        }
    )


def listed(predictions, event_type="clicks"):
    part = predictions[predictions["event_type"] == event_type]
    return part.sort_values("rank")["item"].tolist()


def test_history_ranks_carts_and_recent_events_first():
    history = session_history(SESSIONS, PARAMS["history"])
    # votes: 10 -> 1 * 0.25, 11 -> 6 * 0.5, 12 -> 1 * 1
    assert history["item"].tolist() == [11, 12, 10]
    assert history["history_rank"].tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        (0.0, [50, 51, 90]),  # own items left out; filled with trending 90 (10 is seen)
        (float("inf"), [11, 12, 10]),  # own items first
        (1.0, [11, 50, 12]),  # equal weight: equal ranks interleave, the smaller item id first
    ],
)
def test_weights_leave_out_put_first_or_interleave(weight, expected):
    predictions = apply_seen_policy(
        candidates([50, 51]),
        SESSIONS,
        POPULAR,
        dict.fromkeys(["clicks", "carts", "orders"], weight),
        PARAMS,
    )
    assert listed(predictions) == expected
    assert predictions["rank"].dtype == np.int16 and predictions["item"].dtype == np.int32


def test_the_choice_follows_the_labels():
    revisit = pd.DataFrame({"session": [1], "event_type": ["clicks"], "item": [11]})
    new = pd.DataFrame({"session": [1], "event_type": ["clicks"], "item": [51]})
    # With a 3-item list, 51 (rank 2 of the new items) stays only when own items stay out.
    chosen_revisit, _ = choose_seen_policy(candidates([50, 51]), SESSIONS, revisit, POPULAR, PARAMS)
    chosen_new, table = choose_seen_policy(candidates([50, 51]), SESSIONS, new, POPULAR, PARAMS)
    assert chosen_revisit["clicks"] > 0
    assert chosen_new["clicks"] == 0.0
    assert table.loc[table["weight"] == 0.0, "clicks"].item() == 1.0
    assert policy_scores(candidates([50, 51]), SESSIONS, new, POPULAR, PARAMS)["score"] == 0.1


def test_chunks_of_sessions_give_the_same_predictions():
    rng = np.random.default_rng(0)
    n_sessions = 40
    sessions = pd.DataFrame(
        {
            "session": np.repeat(np.arange(n_sessions), 4),
            "item": rng.integers(0, 30, 4 * n_sessions),
            "ts": np.tile(np.arange(4), n_sessions),
            "type": rng.integers(0, 3, 4 * n_sessions),
        }
    )
    # Unsorted candidates, some sessions without any (they get the trending fill).
    frame = pd.concat(
        [
            candidates(rng.choice(np.arange(30, 60), 5, replace=False)).assign(session=s)
            for s in range(n_sessions)
            if s % 7
        ]
    ).sample(frac=1.0, random_state=0)
    weights = {"clicks": 0.5, "carts": float("inf"), "orders": 0.0}
    whole = apply_seen_policy(frame, sessions, POPULAR, weights, PARAMS)
    chunked = apply_seen_policy(
        frame, sessions, POPULAR, weights, {**PARAMS, "sessions_per_chunk": 6}
    )
    assert whole["session"].nunique() == n_sessions
    pd.testing.assert_frame_equal(chunked, whole)

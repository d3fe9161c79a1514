"""The blend: reciprocal-rank fusion by hand, zero weights, and tuning on validation."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.blend.nodes import blend_candidates, tune_blend

SELECTION = {
    "tuning": {"n_trials": 6, "seed": 0, "max_valid_sessions": None},
    "seen_items": {
        "top_k": 2,
        "rank_offset": 1.0,
        "weights": [0.0, float("inf")],
        "history": {"type_weights": [1.0, 6.0, 3.0], "decay": 0.9},
    },
}


def candidates(rows):
    frame = pd.DataFrame(rows, columns=["session", "event_type", "item", "rank"])
    return frame.assign(score=0.0)


A = candidates([(1, "clicks", 10, 1), (1, "clicks", 11, 2), (1, "orders", 12, 1)])
B = candidates([(1, "clicks", 11, 1), (1, "clicks", 13, 2)])


def test_fusion_by_hand():
    blended = blend_candidates({"a": A, "b": B}, {"a": 1.0, "b": 1.0}, 2, rank_offset=1.0)
    clicks = blended[blended["event_type"] == "clicks"]
    # 11: 1/3 + 1/2 beats 10: 1/2 and 13: 1/3; top 2 kept
    assert clicks["item"].tolist() == [11, 10]
    assert clicks["score"].to_numpy() == pytest.approx([1 / 3 + 1 / 2, 1 / 2])
    assert blended.loc[blended["event_type"] == "orders", "item"].tolist() == [12]
    assert blended["rank"].dtype == np.int16


def test_a_zero_weight_drops_the_member_and_an_unknown_member_is_named():
    only_b = blend_candidates({"a": A, "b": B}, {"a": 0.0, "b": 1.0}, 2, 1.0)
    assert only_b["item"].tolist() == [11, 13]
    with pytest.raises(ValueError, match=r"params blend\.members names 'c'"):
        blend_candidates({"a": A}, {"a": 1.0, "c": 1.0}, 2, 1.0)


def test_tuning_finds_the_member_that_knows_the_labels():
    sessions = pd.DataFrame({"session": [1, 2], "item": [99, 98], "ts": [0, 0], "type": [0, 0]})
    labels = pd.DataFrame({"session": [1, 2], "event_type": "clicks", "item": [13, 14]})
    good = candidates([(1, "clicks", 13, 1), (2, "clicks", 14, 1)])
    bad = candidates(
        [(1, "clicks", 20, 1), (1, "clicks", 21, 2), (2, "clicks", 20, 1), (2, "clicks", 21, 2)]
    )
    popular = pd.DataFrame({"event_type": ["clicks"], "item": [50], "rank": [1]})
    params = {
        "members": ["good", "bad"],
        "top_k": 2,
        "rank_offset": 1.0,
        "weight_good": 0.1,
        "weight_bad": 1.0,
        "search_space": {
            "weight_good": {"type": "float", "low": 0.0, "high": 1.0},
            "weight_bad": {"type": "float", "low": 0.0, "high": 1.0},
        },
    }
    best, trials = tune_blend(sessions, labels, popular, params, SELECTION, good=good, bad=bad)
    assert trials.loc[0, "clicks"] == 0.0  # the defaults push the good item out of the top 2
    assert trials["clicks"].max() == 1.0
    assert best["weight_good"] / 2 > best["weight_bad"] / 3  # good ranks in the top 2


def test_chunks_of_sessions_give_the_same_blend():
    rng = np.random.default_rng(5)

    def member(n_rows):
        return candidates(
            {
                "session": rng.integers(0, 50, n_rows),
                "event_type": rng.choice(["clicks", "carts", "orders"], n_rows),
                "item": rng.integers(0, 40, n_rows),
                "rank": rng.integers(1, 21, n_rows),
            }
        ).drop_duplicates(["session", "event_type", "item"])

    members = {"a": member(1500), "b": member(1500), "c": member(800)}
    weights = {"a": 1.0, "b": 0.4, "c": 0.7}
    whole = blend_candidates(members, weights, 5, 10.0)
    chunked = blend_candidates(members, weights, 5, 10.0, sessions_per_chunk=7)
    assert whole.groupby(["session", "event_type"], observed=True).size().max() == 5
    pd.testing.assert_frame_equal(chunked, whole)

"""Session kNN (V-SKNN): hand-checked neighbours, and the sparse chunks against a brute force."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.baselines.sknn import fit_sknn, recommend_sknn
from tests.pipelines.baselines.sql_helpers import random_sessions

PARAMS = {
    "top_k": 20,
    "history_events": 30,
    "k": 2,
    "sample_size": 10,
    "weighting": "div",
    "decay": 0.8,
    "sessions_per_chunk": 100,
}
# Fit sessions, the most recent last: s0 {1, 2, 3}, s1 {1, 4}, s2 {2, 5}, s3 {6}.
FIT = pd.DataFrame(
    {
        "session": [0, 0, 0, 1, 1, 2, 2, 3],
        "item": [1, 2, 3, 1, 4, 2, 5, 6],
        "ts": [100, 101, 102, 200, 201, 300, 301, 400],
        "type": 0,
    }
)
FIT_PARAMS = {"max_postings": 10, "max_session_events": 30}
# The session clicked 1, then 2: 'div' weighs 2 (last) 1 and 1 (one back) 1/2.
QUERY = pd.DataFrame({"session": [9, 9], "item": [1, 2], "ts": [0, 1], "type": [0, 0]})


def items(candidates):
    return candidates.loc[candidates["event_type"] == "clicks", "item"].tolist()


def test_the_nearest_sessions_vote_their_similarity():
    index = fit_sknn(FIT, FIT_PARAMS)
    # Similarities: s0 1 + 1/2, s2 1, s1 1/2. k=2: s0 and s2 vote; 1 and 2 are the session's.
    found = recommend_sknn(QUERY, index, PARAMS)
    assert items(found) == [3, 5]
    assert found["score"].tolist()[:2] == pytest.approx([1.5, 1.0])
    assert items(recommend_sknn(QUERY, index, {**PARAMS, "k": 3})) == [3, 5, 4]


def test_only_the_most_recent_sessions_sharing_an_item_are_sampled():
    index = fit_sknn(FIT, FIT_PARAMS)
    # sample_size 2: s2 and s1 (the newest sharing 1 or 2); s0, the most similar, is older.
    assert items(recommend_sknn(QUERY, index, {**PARAMS, "sample_size": 2})) == [5, 4]


def test_the_position_weighting_changes_the_neighbours():
    index = fit_sknn(FIT, FIT_PARAMS)
    flipped = QUERY.assign(item=[2, 1])  # 2, then 1 (last)
    # 'div': 1 weighs 1, 2 weighs 1/2: s0 1.5, s1 1, s2 1/2.
    assert items(recommend_sknn(flipped, index, PARAMS)) == [3, 4]
    # No decay (exponential, 1.0: plain SKNN): s0 2, s1 = s2 = 1, the more recent s2 wins.
    plain = {**PARAMS, "weighting": "exponential", "decay": 1.0}
    assert items(recommend_sknn(flipped, index, plain)) == [3, 5]
    # 2, 1, then 6 (last), k=1. 'div' weighs 1/3, 1/2, 1: s3 {6} (1) beats s0 {1, 2, 3} (5/6)
    # and has nothing new. 'linear' weighs 0.8, 0.9, 1: s0 (1.7) wins and brings 3.
    longer = pd.DataFrame({"session": 9, "item": [2, 1, 6], "ts": [0, 1, 2], "type": 0})
    nearest = {**PARAMS, "k": 1}
    assert items(recommend_sknn(longer, index, nearest)) == []
    assert items(recommend_sknn(longer, index, {**nearest, "weighting": "linear"})) == [3]
    slow = {**nearest, "weighting": "exponential", "decay": 0.9}  # s0 0.81 + 0.9 + 0 = 1.71
    assert items(recommend_sknn(longer, index, slow)) == [3]
    assert items(recommend_sknn(longer, index, {**slow, "decay": 0.3})) == []


def test_a_fit_session_is_its_last_events():
    # s0 keeps only its last 2 events (2, 3): it no longer shares 1 with the session.
    index = fit_sknn(FIT, {**FIT_PARAMS, "max_session_events": 2})
    # Similarities: s2 1 (2), s0 1 (2), s1 1/2 (1). k=2: s2 and s0 (the more recent first).
    assert items(recommend_sknn(QUERY, index, PARAMS)) == [3, 5]
    assert recommend_sknn(QUERY, index, PARAMS)["score"].tolist()[:2] == [1.0, 1.0]


def test_sample_size_beyond_the_postings_kept_is_refused():
    index = fit_sknn(FIT, {**FIT_PARAMS, "max_postings": 3})
    with pytest.raises(ValueError, match="sample_size 10 exceeds the index's max_postings 3"):
        recommend_sknn(QUERY, index, PARAMS)


def brute_force(fit, queries, p):
    """V-SKNN per session with Python sets, every fit session considered."""
    last_ts = fit.groupby("session")["ts"].max()
    recency = sorted(last_ts.index, key=lambda s: (-last_ts[s], s))  # newest first
    recent = fit.groupby("session").tail(p["max_session_events"])
    items_of = recent.groupby("session")["item"].apply(set).to_dict()
    rows = []
    for session, events in queries.groupby("session"):
        weights = {}
        for back, item in enumerate(events.sort_values("ts")["item"].tolist()[::-1]):
            weights.setdefault(item, 1.0 / (1 + back))  # 'div', the last event of each item
        sharing = [s for s in recency if items_of[s] & set(weights)][: p["sample_size"]]
        similarity = {s: sum(weights[i] for i in items_of[s] & set(weights)) for s in sharing}
        nearest = sorted(sharing, key=lambda s: (-similarity[s], recency.index(s)))[: p["k"]]
        scores = {}
        for s in nearest:
            for item in items_of[s] - set(weights):
                scores[item] = scores.get(item, 0.0) + similarity[s]
        best = sorted(scores, key=lambda i: (-scores[i], i))[: p["top_k"]]
        rows += [(session, item, scores[item]) for item in best]
    return pd.DataFrame(rows, columns=["session", "item", "score"])


def test_capped_sparse_postings_give_the_brute_force_neighbours():
    fit = random_sessions(seed=5, n_sessions=400, n_items=30)
    queries = random_sessions(seed=6, n_sessions=40, n_items=30)
    queries["ts"] += 20 * 86_400
    params = {**PARAMS, "k": 5, "sample_size": 12, "top_k": 8, "sessions_per_chunk": 9}
    index = fit_sknn(fit, {"max_postings": 12, "max_session_events": 6})
    found = recommend_sknn(queries, index, params)
    clicks = found[found["event_type"] == "clicks"].reset_index(drop=True)
    expected = brute_force(fit, queries, {**params, "max_session_events": 6})
    assert len(clicks) == len(expected) > 200
    assert clicks[["session", "item"]].to_numpy().tolist() == (
        expected[["session", "item"]].to_numpy().tolist()
    )
    np.testing.assert_allclose(clicks["score"], expected["score"], rtol=1e-6)


def test_chunks_in_forked_workers_give_the_same_candidates():
    fit = random_sessions(seed=3, n_sessions=300, n_items=40)
    query = random_sessions(seed=4, n_sessions=250, n_items=40)
    index = fit_sknn(fit, FIT_PARAMS)
    params = {**PARAMS, "k": 5, "sessions_per_chunk": 20}
    here = recommend_sknn(query, index, params)
    assert here["session"].nunique() > 200
    pd.testing.assert_frame_equal(recommend_sknn(query, index, {**params, "processes": 2}), here)

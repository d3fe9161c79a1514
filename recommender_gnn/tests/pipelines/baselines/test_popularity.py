"""Trending popularity: per type over the last days, new items only."""

import pandas as pd

from recommender_gnn.pipelines.baselines.popularity import fit_popularity, recommend_popularity

DAY = 86_400
PARAMS = {"top_k": 3, "popularity_days": 7, "list_length": 5, "sessions_per_chunk": 1}


def sessions(rows):
    return pd.DataFrame(rows, columns=["session", "item", "ts", "type"])


TRAIN = sessions(
    [(0, 9, 0, 0)] * 5  # popular long ago: outside the last 7 days
    + [(1, 1, 20 * DAY, 0)] * 4
    + [(1, 2, 20 * DAY, 0)] * 3
    + [(1, 4, 20 * DAY, 0)] * 2
    + [(1, 5, 20 * DAY, 0)]
    + [(1, 3, 20 * DAY, 1)]
)


def test_popularity_counts_each_type_over_the_last_days_only():
    popular = fit_popularity(TRAIN, PARAMS)
    clicks = popular[popular["event_type"] == "clicks"]
    # 9 is old; 3 was never clicked and comes last, borrowed from every event to fill the list
    assert clicks["item"].tolist() == [1, 2, 4, 5, 3]
    carts = popular[popular["event_type"] == "carts"]
    assert carts["item"].tolist() == [3, 1, 2, 4, 5]  # then borrowed from every event
    assert popular.dtypes.astype(str).tolist() == ["category", "int32", "int16", "float32"]


def test_each_session_gets_the_trending_items_it_has_not_seen():
    popular = fit_popularity(TRAIN, PARAMS)
    found = recommend_popularity(
        sessions([(7, 1, 0, 0), (7, 4, 1, 0), (7, 3, 2, 1), (8, 2, 0, 0)]), popular, PARAMS
    )
    clicks = found[found["event_type"] == "clicks"]
    # Session 7 saw 3 of the 5 trending clicks: the 2 left are fewer than top_k, and fine.
    assert clicks.groupby("session")["item"].apply(list).to_dict() == {7: [2, 5], 8: [1, 4, 5]}
    assert clicks["rank"].tolist() == [1, 2, 1, 2, 3]

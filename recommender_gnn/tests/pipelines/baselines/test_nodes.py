"""Popularity and co-visitation scoring on hand-made sessions."""

import pandas as pd
import pytest

from recommender_gnn.pipelines.baselines.nodes import (
    covisitation_neighbours,
    popular_items,
    recommend_covisitation,
    recommend_popular,
)

PARAMS = {
    "top_k": 3,
    "popularity_days": 7,
    "history_events": 30,
    "history_decay": 0.5,
    "type_weights": [1.0, 6.0, 3.0],
    "history_weight": 1.0,
}
DAY = 86_400


def sessions(rows):
    return pd.DataFrame(rows, columns=["session", "item", "ts", "type"])


def test_popularity_counts_each_type_over_the_last_week_only():
    train = sessions(
        [(0, 9, 0, 0)] * 5  # popular long ago: outside the last 7 days
        + [(1, 1, 20 * DAY, 0)] * 3
        + [(1, 2, 20 * DAY, 0)] * 2
        + [(1, 3, 20 * DAY, 1)]
        + [(1, 4, 20 * DAY, 0)]
    )
    popular = popular_items(train, PARAMS)
    clicks = popular[popular["event_type"] == "clicks"]
    assert clicks["item"].tolist() == [1, 2, 4]
    carts = popular[popular["event_type"] == "carts"]
    assert carts["item"].tolist()[0] == 3  # then borrowed from all events
    predictions = recommend_popular(sessions([(7, 1, 0, 0), (8, 2, 0, 0)]), popular)
    assert len(predictions) == 2 * 3 * 3
    ranks = predictions.groupby(["session", "event_type"])["rank"].apply(list)
    assert all(rank == [1, 2, 3] for rank in ranks)


def test_covisitation_ranks_own_items_and_their_neighbours():
    neighbours = pd.DataFrame(
        {"item": [1, 1, 2], "neighbour": [5, 6, 7], "weight": [10.0, 1.0, 4.0], "rank": [1, 2, 1]}
    )
    popular = pd.DataFrame(
        {
            "event_type": ["clicks", "carts", "orders"] * 2,
            "item": [8] * 3 + [9] * 3,
            "rank": [1] * 3 + [2] * 3,
            "score": 1.0,
        }
    )
    session = sessions([(0, 2, 1, 0), (0, 1, 2, 0)])  # 1 is the most recent item
    predictions = recommend_covisitation(session, neighbours, popular, {**PARAMS, "top_k": 6})
    clicks = predictions[predictions["event_type"] == "clicks"]
    # Own items: 1 (weight 1) > 2 (0.5); neighbours: 5 (1 x 10) > 7 (0.5 x 4 = 2) > 6 (1):
    # scaled per session and summed, then popular items fill up.
    assert clicks["item"].tolist() == [1, 5, 2, 7, 6, 8]
    assert clicks["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    assert predictions.groupby("event_type").size().to_dict() == {
        "carts": 6,
        "clicks": 6,
        "orders": 6,
    }


def test_neighbours_of_another_table_are_rejected():
    counts = pd.DataFrame({"item": [42], "neighbour": [1], "weight": [1.0], "rank": [1]})
    with pytest.raises(
        ValueError,
        match=r"covisitation_counts field .item. holds 1 rows of items that are not in train_ses",
    ):
        covisitation_neighbours(counts, sessions([(0, 1, 0, 0)]))


def test_scoring_in_chunks_gives_the_same_predictions():
    neighbours = pd.DataFrame(
        {
            "item": [1, 1, 2, 3],
            "neighbour": [5, 6, 7, 1],
            "weight": [10.0, 1.0, 4.0, 2.0],
            "rank": 1,
        }
    )
    popular = pd.DataFrame(
        {"event_type": ["clicks", "carts", "orders"], "item": 8, "rank": 1, "score": 1.0}
    )
    many = sessions([(s, 1 + s % 3, t, t % 2) for s in range(7) for t in range(3)])
    whole = recommend_covisitation(many, neighbours, popular, {**PARAMS, "sessions_per_chunk": 100})
    chunked = recommend_covisitation(many, neighbours, popular, {**PARAMS, "sessions_per_chunk": 2})
    pd.testing.assert_frame_equal(whole, chunked)
    assert whole["session"].nunique() == 7

"""The popularity fill gives every customer of the submission k distinct articles."""

import pandas as pd
import pytest

from recommender_ranking.pipelines.recommendations.nodes import fill_from_popularity

K = 4
POPULAR = pd.Series(["p1", "p2", "p3", "p4", "p5"])


def ranked_rows() -> pd.DataFrame:
    """``full`` has k ranked articles, ``short`` two (one of them popular), ``none`` nothing."""
    return pd.DataFrame(
        {
            "customer_id": ["full"] * K + ["short"] * 2,
            "article_id": ["f1", "f2", "f3", "f4", "p2", "s1"],
            "rank": [1, 2, 3, 4, 1, 2],
        }
    )


def test_every_customer_gets_k_distinct_articles_ranked_first():
    customers = pd.Series(["full", "short", "none"], name="customer_id")
    submission, n_filled = fill_from_popularity(
        ranked_rows(), POPULAR, customers, K, "rank_popularity"
    )
    predictions = submission.set_index("customer_id")["prediction"].str.split(" ")
    assert sorted(predictions.index) == sorted(customers)
    assert predictions["full"] == ["f1", "f2", "f3", "f4"]
    assert predictions["short"] == ["p2", "s1", "p1", "p3"]  # p2 not repeated
    assert predictions["none"] == ["p1", "p2", "p3", "p4"]
    assert n_filled == 2


def test_a_popularity_list_shorter_than_k_is_named():
    customers = pd.Series(["none"], name="customer_id")
    with pytest.raises(ValueError, match=r"fallback list \(rank_popularity\) has 2 articles"):
        fill_from_popularity(ranked_rows(), POPULAR.head(2), customers, K, "rank_popularity")

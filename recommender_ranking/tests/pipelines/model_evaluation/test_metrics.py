"""MAP@12 and recall@12 against cases computed by hand."""

import pandas as pd
import pytest

from recommender_ranking.pipelines.model_evaluation.metrics import (
    average_precision,
    map_at_k,
    rank_by_score,
)


def recs(customer: str, articles: list[str], week: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week": week,
            "customer_id": customer,
            "article_id": articles,
            "rank": range(1, len(articles) + 1),
        }
    )


def bought(customer: str, articles: list[str], week: int = 1) -> pd.DataFrame:
    return pd.DataFrame({"week": week, "customer_id": customer, "article_id": articles})


def test_average_precision_matches_a_hand_computed_case():
    # hits at ranks 1 and 3 of 3 purchases: (1/1 + 2/3) / min(3, 12) = 5/9
    per_buyer = average_precision(
        recs("a", ["x", "n1", "y", "n2"]), bought("a", ["x", "y", "z"]), 12
    )
    assert per_buyer["ap"].iloc[0] == pytest.approx(5 / 9)
    assert per_buyer["recall"].iloc[0] == pytest.approx(2 / 3)


def test_hits_beyond_k_do_not_count_and_denominator_is_capped_at_k():
    articles = [f"n{i}" for i in range(11)] + ["x", "y"]  # x at rank 12, y at rank 13
    purchases = bought("a", ["x", "y", *[f"p{i}" for i in range(20)]])
    per_buyer = average_precision(recs("a", articles), purchases, 12)
    assert per_buyer["ap"].iloc[0] == pytest.approx((1 / 12) / 12)
    assert per_buyer["recall"].iloc[0] == pytest.approx(1 / 22)


def test_map_averages_buyers_and_a_buyer_without_recommendations_scores_zero():
    recommendations = pd.concat([recs("a", ["x"]), recs("b", ["n", "y"])])
    purchases = pd.concat([bought("a", ["x"]), bought("b", ["y"]), bought("c", ["x"])])
    # a: 1, b: (1/2)/1, c: 0 -> mean 0.5; non-buyers' recommendations are ignored
    extra = recs("d", ["x"])
    assert map_at_k(pd.concat([recommendations, extra]), purchases, 12) == pytest.approx(0.5)


def test_weeks_are_separate_queries():
    recommendations = pd.concat([recs("a", ["x"], week=1), recs("a", ["y"], week=2)])
    purchases = pd.concat([bought("a", ["y"], week=1), bought("a", ["y"], week=2)])
    per_buyer = average_precision(recommendations, purchases, 12).set_index("week")
    assert per_buyer.loc[1, "ap"] == 0.0
    assert per_buyer.loc[2, "ap"] == 1.0


def test_repeated_article_is_refused():
    with pytest.raises(ValueError, match="repeat an article"):
        average_precision(recs("a", ["x", "x"]), bought("a", ["x"]), 12)


def test_rank_by_score_keeps_the_k_best_per_customer_week_with_ties_by_article():
    scored = pd.DataFrame(
        {
            "week": [1, 1, 1, 1],
            "customer_id": ["a", "a", "a", "b"],
            "article_id": ["z", "y", "x", "x"],
            "score": [0.5, 0.9, 0.5, 0.1],
        }
    )
    top = rank_by_score(scored, 2)
    assert top[top["customer_id"] == "a"]["article_id"].tolist() == ["y", "x"]
    assert top["rank"].tolist() == [1, 2, 1]

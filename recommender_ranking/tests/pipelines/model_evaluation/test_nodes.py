"""The evaluation table on a hand-computed case: conventions, segments, oracle fraction."""

import pandas as pd
import pytest

from recommender_ranking.pipelines.model_evaluation.nodes import (
    evaluate_recommenders,
    evaluation_plot,
)

PARAMS = {"k": 12, "test_week": 1}


def case() -> dict:
    scores = pd.DataFrame(
        {
            "week": 1,
            "customer_id": ["a", "a", "b", "b"],
            "article_id": ["x", "y", "x", "y"],
            "has_history": [True, True, False, False],
            "rank_popularity": [2.0, 1.0, 2.0, 1.0],
            "score": [0.9, 0.1, 0.5, 0.6],
        }
    )
    purchases = pd.DataFrame({"week": 1, "customer_id": ["a", "b"], "article_id": ["x", "y"]})
    customer_weeks = pd.DataFrame(
        {
            "week": [1, 1],
            "customer_id": ["a", "b"],
            "has_history": [True, False],
            "buyer_share": [1.0, 1.0],
        }
    )
    oracle = pd.DataFrame({"customer_id": ["a", "b"], "article_id": ["x", "x"], "rank": 1})
    return {
        "test_scores": scores,
        "week_purchases": purchases,
        "customer_weeks": customer_weeks,
        "customers": pd.DataFrame({"customer_id": ["a", "b", "c", "d"]}),
        "oracle_recommendations": oracle,
    }


def test_table_by_hand():
    table, metrics = evaluate_recommenders(**case(), params=PARAMS)
    cell = table.set_index(["recommender", "segment"])
    # ranker: both buyers hit at rank 1; baseline (popularity order y, x): a at rank 2, b at 1
    assert cell.loc[("ranker", "all"), "map_at_12_buyers"] == 1.0
    assert cell.loc[("ranker", "all"), "map_at_12_all_customers"] == pytest.approx(2 / 4)
    assert cell.loc[("baseline:popularity", "all"), "map_at_12_buyers"] == 0.75
    assert cell.loc[("baseline:popularity", "all"), "map_at_12_all_customers"] == 1.5 / 4
    assert cell.loc[("baseline:popularity", "with_history"), "map_at_12_buyers"] == 0.5
    assert cell.loc[("baseline:popularity", "without_history"), "map_at_12_buyers"] == 1.0
    assert cell.loc[("oracle", "all"), "map_at_12_buyers"] == 0.5
    assert cell.loc[("ranker", "all"), "fraction_of_oracle"] == 2.0
    assert cell.loc[("ranker", "without_history"), "buyers"] == 1
    assert metrics["baseline.popularity.all.map_at_12_buyers"]["value"] == 0.75
    title = evaluation_plot(table, PARAMS).axes[0].get_title()
    assert title == "map_at_12_buyers (Kaggle's MAP) on the test week"


def test_without_an_oracle_there_is_no_oracle_row_and_no_fraction():
    """Real data has no oracle file (it loads empty): no oracle row of MAP 0, no ``inf``."""
    inputs = case()
    inputs["oracle_recommendations"] = inputs["oracle_recommendations"].iloc[0:0]
    table, metrics = evaluate_recommenders(**inputs, params=PARAMS)
    assert "oracle" not in set(table["recommender"])
    assert "fraction_of_oracle" not in table.columns
    assert not any(name.startswith("oracle.") for name in metrics)
    assert table.set_index(["recommender", "segment"]).loc[("ranker", "all"), "buyers"] == 2


def test_a_sample_of_test_buyers_is_reported_as_such():
    """With half of the test week's buyers sampled, the all-customers mean divides by half of
    the customers, and every row says the share."""
    inputs = case()
    inputs["customer_weeks"]["buyer_share"] = 0.5
    table, _ = evaluate_recommenders(**inputs, params=PARAMS)
    cell = table.set_index(["recommender", "segment"])
    assert cell.loc[("ranker", "all"), "map_at_12_all_customers"] == pytest.approx(2 / 2)
    assert set(table["test_buyer_share"]) == {0.5}
    full, _ = evaluate_recommenders(**case(), params=PARAMS)
    assert set(full["test_buyer_share"]) == {1.0}


def test_no_purchase_in_the_test_week_is_refused():
    inputs = case()
    inputs["week_purchases"] = inputs["week_purchases"].assign(week=2)
    with pytest.raises(ValueError, match="no purchase in the test week 1"):
        evaluate_recommenders(**inputs, params=PARAMS)


def test_oracle_without_rank_is_named():
    inputs = case()
    inputs["oracle_recommendations"] = inputs["oracle_recommendations"].drop(columns="rank")
    with pytest.raises(ValueError, match=r"oracle lacks column\(s\) \['rank'\]"):
        evaluate_recommenders(**inputs, params=PARAMS)

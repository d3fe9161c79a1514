"""Candidate nodes: faiss neighbours, union with fallback, recall per source, bad input."""

import logging

import numpy as np
import pandas as pd
import pytest

from recommender_ranking.pipelines.candidate_generation.nodes import (
    check_source,
    check_week_calendar,
    collect_week_purchases,
    nearest_neighbour_candidates,
    select_customer_weeks,
)
from recommender_ranking.pipelines.candidate_generation.union import (
    candidate_report,
    combine_candidates,
)

UNION = {"fallback_source": "popularity", "fallback_top_n": 2}


def source(rows: list[tuple]) -> pd.DataFrame:
    """rows of (week, customer_id, article_id, source_rank)."""
    frame = pd.DataFrame(rows, columns=["week", "customer_id", "article_id", "source_rank"])
    return frame.assign(score=-frame["source_rank"].astype("float64"))


def customer_weeks(customers: list[str], week: int = 1, share: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"week": week, "customer_id": customers, "has_history": True, "buyer_share": share}
    )


EMBEDDINGS = pd.DataFrame(
    {
        "article_id": ["a", "b", "c", "d"],
        "text_emb_000": [1.0, 0.9, 0.3, -1.0],
        "text_emb_001": [0.0, 0.1, 1.0, -0.2],
    }
)
NEIGHBOURS = {
    "name": "text_neighbours",
    "column_prefix": "text_emb_",
    "n_seed_articles": 2,  # v's seed (rank 9) is ignored
    "neighbours_per_seed": 2,
    "top_n": 3,
}


def weeks_with_cutoff() -> pd.DataFrame:
    return customer_weeks(["u", "v"]).assign(cutoff=pd.Timestamp("2020-09-16"))


def sales(articles: list[str], day: str) -> pd.DataFrame:
    return pd.DataFrame({"t_dat": pd.Timestamp(day), "article_id": articles})


def test_neighbours_come_from_the_faiss_index_best_similarity_first():
    seeds = source([(1, "u", "a", 1), (1, "u", "c", 2), (1, "v", "d", 9)])
    everything_sold = sales(["a", "b", "c", "d"], "2020-09-10")
    result = nearest_neighbour_candidates(
        EMBEDDINGS, seeds, everything_sold, weeks_with_cutoff(), NEIGHBOURS
    )
    assert result["customer_id"].unique().tolist() == ["u"]
    # a's neighbours: b (cos 0.99), c (0.29); c's: b (0.39), a (0.29); d is far from both
    assert result["article_id"].tolist() == ["b", "a", "c"]
    assert result["source_rank"].tolist() == [1, 2, 3]
    assert result["score"].iloc[0] == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    hnsw = nearest_neighbour_candidates(
        EMBEDDINGS, seeds, everything_sold, weeks_with_cutoff(), {**NEIGHBOURS, "index": "hnsw"}
    )
    pd.testing.assert_frame_equal(hnsw, result, atol=1e-5)


def test_neighbours_are_searched_among_articles_sold_in_the_active_days():
    seeds = source([(1, "u", "a", 1)])
    # b was last sold 30 days before the cutoff, c and d within the last 28 days
    sold = pd.concat([sales(["b"], "2020-08-17"), sales(["c", "d"], "2020-09-14")])
    params = {**NEIGHBOURS, "active_days": 28}
    result = nearest_neighbour_candidates(EMBEDDINGS, seeds, sold, weeks_with_cutoff(), params)
    assert result["article_id"].tolist() == ["c", "d"]
    nothing_sold = sales([], "2020-09-14")
    empty = nearest_neighbour_candidates(
        EMBEDDINGS, seeds, nothing_sold, weeks_with_cutoff(), params
    )
    assert empty.empty and list(empty.columns) == list(result.columns)


def test_neighbours_wait_for_an_articles_first_sale_even_without_active_days():
    seeds = source([(1, "u", "a", 1)])
    # b first sells on the cutoff day: not on sale for the week yet
    sold = pd.concat([sales(["a", "c", "d"], "2019-01-01"), sales(["b"], "2020-09-16")])
    params = {**NEIGHBOURS, "active_days": None}
    result = nearest_neighbour_candidates(EMBEDDINGS, seeds, sold, weeks_with_cutoff(), params)
    assert result["article_id"].tolist() == ["c", "d"]


def test_union_keeps_each_source_rank_and_serves_unserved_customers_from_popularity(caplog):
    popularity = source([(1, "u", "p1", 1), (1, "u", "p2", 2), (1, "u", "p3", 3)])
    repurchase = source([(1, "u", "p2", 1), (1, "u", "r1", 2)])
    with caplog.at_level(logging.INFO):
        union = combine_candidates(
            customer_weeks(["u", "lonely"]), UNION, popularity=popularity, repurchase=repurchase
        )
    u = union[union["customer_id"] == "u"].set_index("article_id")
    assert u.loc["p2", ["rank_popularity", "rank_repurchase", "n_sources"]].tolist() == [2, 1, 2]
    assert np.isnan(u.loc["r1", "rank_popularity"])
    lonely = union[union["customer_id"] == "lonely"]
    assert lonely["article_id"].tolist() == ["p1", "p2"]  # fallback_top_n = 2
    assert "served by the popularity fallback: 1 of 2" in caplog.text


def test_recall_per_source_and_of_the_union():
    candidates = combine_candidates(
        customer_weeks(["u", "v"]),
        UNION,
        popularity=source([(1, "u", "p1", 1), (1, "v", "p1", 1)]),
        repurchase=source([(1, "u", "r1", 1)]),
    )
    bought = pd.DataFrame(
        {
            "week": 1,
            "customer_id": ["u", "u", "v", "v"],
            "article_id": ["p1", "r1", "x", "y"],
        }
    )
    report, metrics = candidate_report(candidates, bought, {"report_week": 1})
    recall = report.set_index("source")["recall"]
    assert recall["popularity"] == pytest.approx(1 / 4)
    assert recall["repurchase"] == pytest.approx(1 / 4)
    assert recall["union"] == pytest.approx(2 / 4)
    assert report.set_index("source").loc["union", "candidates_per_customer"] == 1.5
    assert metrics["recall.union"]["value"] == pytest.approx(0.5)


def test_a_source_with_a_missing_column_is_named():
    bad = source([(1, "u", "a", 1)]).drop(columns="score")
    with pytest.raises(ValueError, match=r"candidates_repurchase lacks column\(s\) \['score'\]"):
        check_source(bad, customer_weeks(["u"]), {"name": "repurchase", "top_n": 5})


def test_a_source_beyond_its_top_n_or_for_an_unknown_customer_is_refused():
    rows = source([(1, "u", "a", 1), (1, "u", "b", 2)])
    with pytest.raises(ValueError, match="source_rank above its top_n 1"):
        check_source(rows, customer_weeks(["u"]), {"name": "repurchase", "top_n": 1})
    with pytest.raises(ValueError, match="not in customer_weeks"):
        check_source(rows, customer_weeks(["v"]), {"name": "repurchase", "top_n": 5})


def test_recall_needs_purchases_in_the_report_week():
    candidates = combine_candidates(
        customer_weeks(["u"]), UNION, popularity=source([(1, "u", "p1", 1)])
    )
    empty = pd.DataFrame(columns=["week", "customer_id", "article_id"])
    with pytest.raises(ValueError, match="no purchase in week 1"):
        candidate_report(candidates, empty, {"report_week": 1})


def test_the_query_calendar_is_cross_checked_with_pandas_and_week_0_is_chunked():
    transactions = pd.DataFrame(
        {
            "t_dat": pd.to_datetime(["2020-09-10", "2020-09-20", "2020-09-22"]),
            "customer_id": ["u", "v", "w"],
        }
    )
    calendar = pd.DataFrame(
        {"week": [0, 1], "cutoff": pd.to_datetime(["2020-09-23", "2020-09-16"])}
    )

    def select(weeks, as_of_date=""):
        return select_customer_weeks(weeks, transactions, calendar, as_of_date, 2)

    weeks = pd.concat([customer_weeks(["v", "w"]), customer_weeks(["w", "u", "v"], week=0)])
    labelled, chunks = select(weeks)
    assert labelled["week"].tolist() == [1, 1]  # week 0 goes to the chunks only
    assert {name: frame["customer_id"].tolist() for name, frame in chunks.items()} == {
        "chunk_00000": ["u", "v"],
        "chunk_00001": ["w"],
    }
    wrong = pd.concat([customer_weeks(["w"]), customer_weeks(["u", "v", "w"], week=0)])
    with pytest.raises(ValueError, match="1 customers in week 1 but transactions have 2 buyers"):
        select(wrong)
    assert len(select(wrong, "2020-09-21")[0]) == 1  # as_of: no check
    # a sample of the test week's buyers passes the check; a customer who did not buy does not
    half = pd.concat([customer_weeks(["w"], share=0.5), customer_weeks(["u", "v", "w"], week=0)])
    assert select(half)[0]["customer_id"].tolist() == ["w"]  # a sample of half the buyers
    not_a_buyer = pd.concat(
        [customer_weeks(["u"], share=0.5), customer_weeks(["u", "v", "w"], week=0)]
    )
    with pytest.raises(ValueError, match="the query's calendar is off"):
        select(not_a_buyer)
    with pytest.raises(ValueError, match="no customer in week 1"):
        select(customer_weeks(["u"], week=0))
    with pytest.raises(ValueError, match="weeks that week_calendar does not list"):
        select(pd.concat([weeks, customer_weeks(["v"], week=5)]))


def test_the_week_calendar_must_list_every_week_from_0():
    transactions = pd.DataFrame({"t_dat": pd.to_datetime(["2020-09-22"])})
    calendar = pd.DataFrame(
        {"week": [1, 0], "cutoff": pd.to_datetime(["2020-09-16", "2020-09-23"])}
    )
    assert check_week_calendar(calendar, transactions)["week"].tolist() == [0, 1]
    with pytest.raises(ValueError, match="week_calendar must hold weeks 0, 1, 2"):
        check_week_calendar(calendar[calendar["week"] == 1], transactions)


def test_labels_for_customers_that_are_not_ranked_are_refused():
    labels = pd.DataFrame({"week": [1], "customer_id": ["x"], "article_id": ["a"]})
    with pytest.raises(ValueError, match="customers or weeks that customer_weeks does not rank"):
        collect_week_purchases(labels, customer_weeks(["u"]))

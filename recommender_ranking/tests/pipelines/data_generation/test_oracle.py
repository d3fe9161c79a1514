"""The shortlist oracle is the brute-force top k over every article, for every customer."""

import numpy as np
import pandas as pd

from recommender_ranking.pipelines.data_generation.catalogue import (
    build_articles,
    build_customers,
)
from recommender_ranking.pipelines.data_generation.oracle import oracle_recommendations
from recommender_ranking.pipelines.data_generation.simulation import (
    build_market,
    purchase_probabilities,
    simulate_week,
)


def test_shortlist_oracle_equals_the_brute_force_top_k(tiny_generation_params):
    params = {**tiny_generation_params, "n_customers": 300, "n_articles": 700}
    n_weeks, k = 6, 12
    rng = np.random.default_rng(3)
    # Half the later colour variants launch 1-3 weeks after their product: some are on sale in
    # the oracle's week, some not yet.
    articles = build_articles(
        rng, params["n_articles"], n_weeks, late_variant_share=0.5, max_variant_delay_weeks=3
    )
    customers = build_customers(rng, params["n_customers"])
    market = build_market(rng, articles, customers, n_weeks, 10, params)
    history = pd.DataFrame({"customer": np.array([], int), "article": np.array([], int)})
    for week in range(n_weeks - 1):
        history = simulate_week(rng, market, week, n_weeks, history)[["customer", "article"]]
    week = n_weeks - 1
    # Small chunks: several chunks, some customers with history, some without.
    oracle = oracle_recommendations(
        market, week, n_weeks, history, customers, articles, k, chunk_customers=64
    )
    assert history["customer"].nunique() < len(customers)

    probability = purchase_probabilities(market, week, n_weeks, np.arange(len(customers)), history)
    top = np.argsort(-probability, axis=1, kind="stable")[:, :k]
    expected_articles = articles["article_id"].to_numpy()[top].ravel()
    expected_probability = np.take_along_axis(probability, top, 1).ravel()
    assert oracle["customer_id"].tolist() == np.repeat(customers["customer_id"], k).tolist()
    assert oracle["article_id"].tolist() == expected_articles.tolist()
    np.testing.assert_allclose(oracle["probability"], expected_probability, rtol=1e-12)
    assert oracle["rank"].tolist() == list(range(1, k + 1)) * len(customers)


def test_no_article_sells_before_its_launch_and_later_variants_launch_later(
    tiny_generation_params,
):
    params = {**tiny_generation_params, "n_customers": 400, "n_articles": 700}
    n_weeks = 8
    rng = np.random.default_rng(5)
    articles = build_articles(
        rng, params["n_articles"], n_weeks, late_variant_share=1.0, max_variant_delay_weeks=4
    )
    launch = articles["_launch_week"].to_numpy()
    by_product = articles.groupby("_product")["_launch_week"]
    assert (by_product.diff().dropna() >= 0).all()  # a product's variants launch in order
    assert (by_product.transform("max") > by_product.transform("min")).any()
    customers = build_customers(rng, params["n_customers"])
    market = build_market(rng, articles, customers, n_weeks, 10, params)
    history = pd.DataFrame({"customer": np.array([], int), "article": np.array([], int)})
    for week in range(n_weeks):
        bought = simulate_week(rng, market, week, n_weeks, history)
        assert (launch[bought["article"].to_numpy()] <= week).all(), week
        history = pd.concat([history, bought[["customer", "article"]]], ignore_index=True)

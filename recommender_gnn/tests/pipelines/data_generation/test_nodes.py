"""The generator's output: deterministic, OTTO-shaped, revisits as configured, carts and orders
that follow item propensities, and an oracle that is calibrated on the labels it writes."""

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
import yaml

from recommender_gnn.pipelines.data_generation.nodes import (
    generate_hm_transactions,
    generate_otto_sessions,
    otto_shop,
)
from tests.kedro_cli import BLUEPRINT

PARAMETERS = yaml.safe_load(
    (BLUEPRINT / "conf" / "base" / "parameters_data_generation.yml").read_text()
)["data_generation"]
CO_OCCURRENCE_HEAVY = {"sequential_share": 0.1, "cooccurrence_share": 0.7, "jump_share": 0.2}


def otto_params(**overrides):
    return {**PARAMETERS["otto"], "n_sessions": 3000, "n_items": 300, **overrides}


@lru_cache(maxsize=8)
def _generate(seed, overrides):
    chunks = list(generate_otto_sessions(otto_params(**dict(overrides)), seed=seed))
    return [pd.concat(parts, ignore_index=True) for parts in zip(*chunks, strict=True)]


def generate(seed=7, **overrides):
    """(train, test prefix, labels, train, test prefix, oracle): copies of a cached run."""
    return [frame.copy() for frame in _generate(seed, tuple(sorted(overrides.items())))]


def test_same_seed_same_data_in_any_number_of_reads():
    first = list(generate_otto_sessions(otto_params(chunk_sessions=1000), seed=7))
    second = list(generate_otto_sessions(otto_params(chunk_sessions=1000), seed=7))
    for chunk_a, chunk_b in zip(first, second, strict=True):
        for a, b in zip(chunk_a, chunk_b, strict=True):
            pd.testing.assert_frame_equal(a, b)
    other = next(iter(generate_otto_sessions(otto_params(), seed=8)))[0]
    assert not other.equals(first[0][0])


def test_sessions_look_like_otto():
    train, test, labels, _, _, oracle = generate()
    assert list(train.columns) == ["session", "aid", "ts", "type"]
    assert train["session"].max() < test["session"].min()  # test week after training
    assert train["ts"].max() < test["ts"].min()
    assert train.groupby("session")["ts"].is_monotonic_increasing.all()
    shares = train["type"].value_counts(normalize=True)
    assert shares[0] > 0.8 and 0.03 < shares[1] < 0.15 and 0 < shares[2] < shares[1]
    lengths = train.groupby("session").size()
    assert lengths.median() <= 4 and lengths.max() >= 25  # most short, some long
    counts = train["aid"].value_counts()
    top_decile = counts.head(len(counts) // 10).sum() / counts.sum()
    assert top_decile > 0.35  # long-tailed popularity
    assert set(labels["event_type"]) == {"clicks", "carts", "orders"}
    assert labels.groupby("session")["event_type"].apply(lambda t: (t == "clicks").sum()).max() == 1
    assert set(oracle["session"]) <= set(test["session"])
    assert oracle.groupby(["session", "event_type"]).size().max() <= 20


def test_bad_parameters_are_rejected_by_name_before_anything_is_written():
    with pytest.raises(ValueError, match=r"data_generation.n_days must be > 0"):
        next(generate_otto_sessions(otto_params(n_days=0), seed=1))
    with pytest.raises(ValueError, match=r"data_generation.test_days \(9\) must be smaller"):
        next(generate_otto_sessions(otto_params(n_days=9, test_days=9), seed=1))
    with pytest.raises(ValueError, match=r"data_generation.revisit_share must be in \[0, 1\]"):
        next(generate_otto_sessions(otto_params(revisit_share=1.5), seed=1))
    with pytest.raises(ValueError, match=r"sequential_share \+ cooccurrence_share \+ jump_share"):
        next(generate_otto_sessions(otto_params(jump_share=0.5), seed=1))


def revisit_shares(events: pd.DataFrame) -> pd.Series:
    """Per event type (and 'all'): the share of events, after a session's first, on an item
    the session already had."""
    events = events.sort_values(["session", "ts"], kind="stable")
    seen = events.duplicated(["session", "aid"])
    later = events.duplicated("session")
    by_type = seen[later].groupby(events.loc[later, "type"]).mean()
    return pd.concat([by_type, pd.Series({"all": seen[later].mean()})])


def test_no_item_repeats_in_a_session_at_zero_revisits():
    train, test, labels, *_ = generate(revisit_share=0.0)
    assert not train.duplicated(["session", "aid"]).any()
    assert not test.duplicated(["session", "aid"]).any()
    # The rest of each test session (its labels) repeats neither the prefix nor itself.
    assert not labels.duplicated(["session", "aid"]).any()
    seen = labels.merge(test[["session", "aid"]].drop_duplicates(), on=["session", "aid"])
    assert seen.empty
    assert set(labels["event_type"]) == {"clicks", "carts", "orders"}


@pytest.mark.parametrize("share", [0.35, 0.7])
def test_the_revisit_share_of_events_is_the_knob(share):
    train, *_ = generate(revisit_share=share, n_sessions=6000)
    shares = revisit_shares(train)
    assert abs(shares["all"] - share) < 0.015
    # Carts and orders revisit more than clicks (OTTO-like), and all three respond to the knob.
    assert shares[0] < share < shares[1] and shares[0] < shares[2]


def test_carts_and_orders_follow_item_propensity():
    for revisit_share in (PARAMETERS["otto"]["revisit_share"], 0.0):
        train, *_ = generate(revisit_share=revisit_share)
        shop, aids = otto_shop(otto_params(revisit_share=revisit_share), seed=7)
        item = pd.Series(np.arange(len(aids)), index=aids)[train["aid"]].to_numpy()
        clicked, carted, ordered = (train["type"] == t for t in (0, 1, 2))
        cart_propensity = shop.cart_propensity[item]
        high = cart_propensity >= np.quantile(shop.cart_propensity, 0.75)
        low = cart_propensity <= np.quantile(shop.cart_propensity, 0.25)
        # Carts per click of an item: high-propensity items are carted far more often.
        assert (carted & high).sum() / (clicked & high).sum() > 2 * (
            (carted & low).sum() / (clicked & low).sum()
        )
        order_propensity = shop.order_propensity[item]
        assert order_propensity[ordered].mean() > 1.1 * order_propensity[clicked].mean()


def test_hm_transactions_have_the_kaggle_shape_and_some_repurchases():
    params = {**PARAMETERS["hm"], "n_customers": 300, "n_articles": 200}
    transactions = generate_hm_transactions(params, seed=1)
    assert list(transactions.columns) == [
        "t_dat",
        "customer_id",
        "article_id",
        "price",
        "sales_channel_id",
    ]
    assert transactions["article_id"].str.fullmatch(r"0\d{9}").all()
    assert transactions["customer_id"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert transactions["t_dat"].between("2018-09-20", "2020-09-22").all()
    assert transactions["t_dat"].is_monotonic_increasing
    assert set(transactions["sales_channel_id"]) <= {1, 2}
    assert transactions["price"].between(0, 0.6).all()
    assert transactions.duplicated(["customer_id", "article_id"]).mean() > 0.03
    never = generate_hm_transactions({**params, "revisit_share": 0.0}, seed=1)
    assert not never.duplicated(["customer_id", "article_id"]).any()


def test_chunks_without_test_sessions_are_written_too():
    chunks = list(generate_otto_sessions(otto_params(chunk_sessions=500), seed=1))
    assert len(chunks) == 6
    assert len(chunks[0][1]) == 0 and len(chunks[0][5]) == 0  # all training sessions
    assert len(chunks[-1][1]) > 0


@pytest.mark.parametrize(
    "overrides",
    [{}, {"revisit_share": 0.0}, CO_OCCURRENCE_HEAVY],
    ids=["default", "no-revisits", "co-occurrence"],
)
def test_the_next_click_oracle_is_calibrated_on_the_written_labels(overrides):
    # If the oracle is the true next-click distribution, the listed items of each probability
    # range are the next click as often as their probabilities sum to, and so is the top 20.
    _, _, labels, _, _, oracle = generate(n_sessions=8000, **overrides)
    clicks = labels[labels["event_type"] == "clicks"][["session", "aid"]]
    listed = oracle[oracle["event_type"] == "clicks"].merge(clicks[["session"]], on="session")
    hits = listed.merge(clicks.assign(hit=True), on=["session", "aid"], how="left")["hit"].notna()
    probability = listed["probability"].to_numpy()
    assert len(clicks) > 1000 and hits.sum() > 500
    assert (listed.groupby("session")["probability"].sum() <= 1 + 1e-9).all()
    for low, high in [(0, 0.02), (0.02, 0.08), (0.08, 0.2), (0.2, 1), (0, 1)]:
        in_range = (probability >= low) & (probability < high + (high == 1))
        expected = probability[in_range]
        standard_error = np.sqrt((expected * (1 - expected)).sum())
        assert abs(hits[in_range].sum() - expected.sum()) < 3.5 * standard_error, (low, high)


@pytest.mark.parametrize("event_type", ["carts", "orders"])
@pytest.mark.parametrize("overrides", [{}, {"revisit_share": 0.0}], ids=["default", "no-revisits"])
def test_the_cart_and_order_oracle_is_calibrated_too(event_type, overrides):
    # Each listed probability is P(item carted / ordered after the cut): the expected number
    # of listed items that turn up in the labels is their sum.
    _, _, labels, _, _, oracle = generate(n_sessions=8000, **overrides)
    listed = oracle[oracle["event_type"] == event_type]
    truth = labels[labels["event_type"] == event_type][["session", "aid"]].assign(hit=True)
    hits = listed.merge(truth, on=["session", "aid"], how="left")["hit"].notna()
    expected = listed["probability"]
    standard_error = np.sqrt((expected * (1 - expected)).sum())
    assert hits.sum() > 100
    assert abs(hits.sum() - expected.sum()) < 3 * standard_error


def test_sessions_that_could_exhaust_the_catalogue_are_refused_or_capped():
    with pytest.raises(ValueError, match=r"data_generation\.max_clicks \(60\) must be at most"):
        next(generate_otto_sessions(otto_params(n_items=100), seed=0))
    hm = {**PARAMETERS["hm"], "scale": 0.01}  # 15 articles, up to 80 purchases asked for
    transactions = generate_hm_transactions(hm, seed=0)
    assert transactions.groupby("customer_id").size().max() <= 15 // 4

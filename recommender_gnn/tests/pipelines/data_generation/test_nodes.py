"""The generator: deterministic, OTTO-shaped, with structure a sequence model can use and an
oracle that is the true next-click distribution."""

import numpy as np
import pandas as pd
import pytest
import yaml

from recommender_gnn.pipelines.data_generation.nodes import (
    generate_hm_transactions,
    generate_otto_sessions,
)
from recommender_gnn.pipelines.data_generation.simulation import (
    build_shop,
    next_click_distribution,
    simulate_clicks,
)
from tests.conftest import BLUEPRINT

PARAMETERS = yaml.safe_load(
    (BLUEPRINT / "conf" / "base" / "parameters_data_generation.yml").read_text()
)["data_generation"]


def otto_params(**overrides):
    return {**PARAMETERS["otto"], "n_sessions": 3000, "n_items": 300, **overrides}


def generate(**overrides):
    chunks = list(generate_otto_sessions(otto_params(**overrides), seed=7))
    return [pd.concat(parts, ignore_index=True) for parts in zip(*chunks, strict=False)]


def test_same_seed_same_data_in_any_number_of_reads():
    first, second = generate(), generate()
    for a, b in zip(first, second, strict=False):
        pd.testing.assert_frame_equal(a, b)
    other = next(iter(generate_otto_sessions(otto_params(), seed=8)))[0]
    assert not other.equals(first[0])


def test_sessions_look_like_otto():
    train, test, labels, _, _, oracle = generate()
    assert list(train.columns) == ["session", "aid", "ts", "type"]
    assert train["session"].max() < test["session"].min()  # test week after training
    assert train["ts"].max() < test["ts"].min()
    shares = train["type"].value_counts(normalize=True)
    assert shares[0] > 0.8 and 0.03 < shares[1] < 0.15 and 0 < shares[2] < shares[1]
    lengths = train.groupby("session").size()
    assert lengths.median() <= 4 and lengths.max() >= 25  # most short, some long
    counts = train["aid"].value_counts()
    top_decile = counts.head(len(counts) // 10).sum() / counts.sum()
    assert top_decile > 0.35  # long-tailed popularity
    assert set(labels["event_type"]) == {"clicks", "carts", "orders"}
    assert labels.groupby("session")["event_type"].apply(lambda t: (t == "clicks").sum()).max() == 1
    assert set(oracle["session"]) == set(test["session"])


def test_bad_parameters_are_rejected_by_name_before_anything_is_written():
    with pytest.raises(ValueError, match=r"data_generation.n_days must be > 0"):
        next(generate_otto_sessions(otto_params(n_days=0), seed=1))
    with pytest.raises(ValueError, match=r"data_generation.test_days \(9\) must be smaller"):
        next(generate_otto_sessions(otto_params(n_days=9, test_days=9), seed=1))


def small_shop(**overrides):
    params = {**PARAMETERS["otto"], **overrides}
    return build_shop(np.random.default_rng(3), 60, 3, params)


def test_oracle_is_the_distribution_the_walk_draws_from():
    shop = small_shop()
    prefix = np.array([[5, 17, 5], [40, 41, 2]])
    oracle_rows, items, probability = next_click_distribution(
        shop, prefix, np.array([3, 3]), np.array([1, 1]), top=60
    )
    n_draws = 40_000
    given = np.repeat(prefix, n_draws, axis=0)
    continued = simulate_clicks(
        np.random.default_rng(0),
        shop,
        np.ones(len(given), dtype=int),
        np.full(len(given), 4),
        given,
    )[:, 3]
    for row in (0, 1):
        empirical = np.bincount(continued[row * n_draws : (row + 1) * n_draws], minlength=60)
        expected = np.zeros(60)
        expected[items[oracle_rows == row]] = probability[oracle_rows == row]
        # Items outside the oracle's top list only have popularity mass: compare the top.
        top = items[oracle_rows == row][:10]
        assert np.abs(empirical[top] / n_draws - expected[top]).max() < 0.01
        assert probability[oracle_rows == row].sum() <= 1 + 1e-9


def test_the_next_item_depends_on_the_last_two_items():
    shop = small_shop(intent_boost=6.0)
    current = 10
    previous_same = int(np.flatnonzero(shop.category == shop.category[current])[0])
    previous_other = int(np.flatnonzero(shop.category != shop.category[current])[-1])
    rows, items, probability = next_click_distribution(
        shop,
        np.array([[previous_same, current], [previous_other, current]]),
        np.array([2, 2]),
        np.array([0, 0]),
        top=60,
    )
    same = dict(zip(items[rows == 0], probability[rows == 0], strict=False))
    other = dict(zip(items[rows == 1], probability[rows == 1], strict=False))
    differences = [abs(same.get(i, 0) - other.get(i, 0)) for i in set(same) | set(other)]
    assert max(differences) > 0.05  # same current item, another previous one: another future


def test_hm_transactions_have_the_kaggle_shape():
    transactions = generate_hm_transactions(
        {**PARAMETERS["hm"], "n_customers": 100, "n_articles": 80}, seed=1
    )
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


def test_the_oracle_is_calibrated_on_the_written_labels():
    # If the oracle is the true next-click distribution, the share of test sessions whose next
    # click is in its top 20 equals, on average, the probability mass of that top 20.
    _, _, labels, _, _, oracle = generate(n_sessions=8000)
    clicks = labels[labels["event_type"] == "clicks"][["session", "aid"]]
    top = oracle[oracle["event_type"] == "clicks"]
    mass = top.groupby("session")["probability"].sum().reindex(clicks["session"]).to_numpy()
    hits = clicks.merge(top, on=["session", "aid"], how="left")["probability"].notna()
    standard_error = np.sqrt((mass * (1 - mass)).sum()) / len(clicks)
    assert len(clicks) > 1000
    assert abs(hits.mean() - mass.mean()) < 3 * standard_error


def test_chunks_without_test_sessions_are_written_too():
    chunks = list(generate_otto_sessions(otto_params(chunk_sessions=500), seed=1))
    assert len(chunks) == 6
    assert len(chunks[0][1]) == 0 and len(chunks[0][5]) == 0  # all training sessions
    assert len(chunks[-1][1]) > 0


@pytest.mark.parametrize("event_type", ["carts", "orders"])
def test_the_cart_and_order_oracle_is_calibrated_too(event_type):
    # Each listed probability is P(item carted / ordered after the cut): the expected number
    # of listed items that turn up in the labels is their sum.
    _, _, labels, _, _, oracle = generate(n_sessions=8000)
    listed = oracle[oracle["event_type"] == event_type]
    truth = labels[labels["event_type"] == event_type][["session", "aid"]].assign(hit=True)
    hits = listed.merge(truth, on=["session", "aid"], how="left")["hit"].fillna(False)
    expected = listed["probability"]
    standard_error = np.sqrt((expected * (1 - expected)).sum())
    assert hits.sum() > 100
    assert abs(hits.sum() - expected.sum()) < 3 * standard_error + 0.02 * expected.sum()

"""The simulation and its exact next-click oracle: the oracle is what the simulator draws, the
sequential part depends on order (the last two clicks), the co-occurrence part does not and is
symmetric, and the configured shares are what new items come from."""

import numpy as np
import pytest
import yaml

from recommender_gnn.pipelines.data_generation.oracle import next_click_distribution, prefix_state
from recommender_gnn.pipelines.data_generation.shop import (
    build_shop,
    expected_events,
    revisit_by_type,
)
from recommender_gnn.pipelines.data_generation.simulation import Skeleton, simulate_sessions
from tests.kedro_cli import BLUEPRINT

OTTO = yaml.safe_load((BLUEPRINT / "conf" / "base" / "parameters_data_generation.yml").read_text())[
    "data_generation"
]["otto"]
N_ITEMS = 60


def small_shop(revisit=(0.3, 0.7, 0.9), **overrides):
    params = {**OTTO, "n_categories": 6, **overrides}
    return build_shop(np.random.default_rng(3), N_ITEMS, 3, params, revisit)


def skeleton(n_clicks, carts_after=(), rows=1):
    carts = np.zeros((rows, n_clicks), dtype=bool)
    carts[:, list(carts_after)] = True
    return Skeleton(
        np.ones(rows, dtype=np.int64),
        np.full(rows, n_clicks),
        carts,
        np.zeros(rows, dtype=np.int64),
    )


def oracle_for(shop, shape, prefix):
    """The oracle's next-click distribution (all items) after ``prefix`` (one row)."""
    types, click_col, _ = shape.layout()
    given = np.full((1, types.shape[1]), -1, dtype=np.int32)
    given[0, : len(prefix)] = prefix
    _, state, current, previous, forbidden = prefix_state(
        given, types, click_col, np.array([len(prefix)])
    )
    _, items, probability = next_click_distribution(
        shop, state, current, previous, np.array([1]), forbidden, top=N_ITEMS
    )
    expected = np.zeros(N_ITEMS)
    expected[items] = probability
    return expected, given


def simulated_next_clicks(shop, shape, given, cut, n_draws, seed=0):
    """Empirical distribution of the first click after ``cut`` over ``n_draws`` continuations."""
    types, _, _ = shape.layout()
    column = np.flatnonzero((types[0] == 0) & (np.arange(types.shape[1]) >= cut))[0]
    walked, _ = simulate_sessions(
        np.random.default_rng(seed),
        shop,
        shape.take(np.zeros(n_draws, dtype=int)),
        np.repeat(given, n_draws, axis=0),
        np.full(n_draws, cut),
    )
    return np.bincount(walked[:, column], minlength=N_ITEMS) / n_draws


@pytest.mark.parametrize(
    ("n_clicks", "carts_after", "prefix"),
    [
        (4, (), [5, 17, 5]),  # clicks only, with a revisit
        (4, (0,), [7, 7, 9]),  # a revisit cart in the prefix
        (3, (1,), [40, 41, 2]),  # the prefix ends with a new cart: the next click is not it
        (3, (1,), [40, 41, 40]),  # ... or with a revisit cart: no such constraint
    ],
)
def test_the_next_click_oracle_is_the_distribution_the_simulator_draws(
    n_clicks, carts_after, prefix
):
    shop = small_shop()
    shape = skeleton(n_clicks, carts_after)
    expected, given = oracle_for(shop, shape, prefix)
    empirical = simulated_next_clicks(shop, shape, given, len(prefix), n_draws=60_000)
    assert abs(expected.sum() - 1) < 1e-9
    assert np.abs(empirical - expected).max() < 0.008  # about 5 standard errors at p = 0.2
    if prefix == [40, 41, 2]:
        assert expected[2] == 0 and empirical[2] == 0


def test_the_next_item_depends_on_the_last_two_items():
    # Successors only (and popularity): the same current item after previous items of two of
    # its successors' categories leads elsewhere (the intent boost).
    shop = small_shop(revisit=(0.0, 0.0, 0.0), sequential_share=0.8, cooccurrence_share=0.0)
    mixed = [i for i in range(N_ITEMS) if len(set(shop.category[shop.successors[i]])) > 1]
    current = mixed[0]
    successors = shop.successors[current]
    first, second = np.unique(shop.category[successors])[:2]
    previous = [
        int(np.flatnonzero((shop.category == c) & ~np.isin(np.arange(N_ITEMS), successors))[0])
        for c in (first, second)
    ]
    after_first, _ = oracle_for(shop, skeleton(3), [previous[0], current])
    after_second, _ = oracle_for(shop, skeleton(3), [previous[1], current])
    assert np.abs(after_first - after_second)[successors].max() > 0.05


def test_cooccurrence_is_symmetric_and_order_free():
    # Co-occurrence and popularity only: the history's order must not matter, and within a
    # bundle an item leads to another as often as the other leads to it.
    shop = small_shop(revisit=(0.2, 0.7, 0.9), sequential_share=0.0, cooccurrence_share=0.8)
    rng = np.random.default_rng(11)
    for _ in range(25):
        history = rng.choice(N_ITEMS, size=rng.integers(2, 6), replace=False)
        expected, _ = oracle_for(shop, skeleton(len(history) + 1), list(history))
        shuffled, _ = oracle_for(shop, skeleton(len(history) + 1), list(rng.permutation(history)))
        np.testing.assert_allclose(expected, shuffled, atol=1e-12)
    history = [3, 30, 50]
    forward, given = oracle_for(shop, skeleton(4), history)
    backward_given = given.copy()
    backward_given[0, :3] = history[::-1]
    forward_draws = simulated_next_clicks(shop, skeleton(4), given, 3, 40_000, seed=1)
    backward_draws = simulated_next_clicks(shop, skeleton(4), backward_given, 3, 40_000, seed=2)
    assert np.abs(forward_draws - forward).max() < 0.01
    assert np.abs(backward_draws - forward).max() < 0.01

    pure = small_shop(
        revisit=(0.0, 0.0, 0.0), sequential_share=0.0, cooccurrence_share=1.0, jump_share=0.0
    )
    bundle = pure.bundle_members[0]
    a, b = int(bundle[0]), int(bundle[1])
    from_a, _ = oracle_for(pure, skeleton(2), [a])
    from_b, given_b = oracle_for(pure, skeleton(2), [b])
    assert from_a[b] == from_b[a] == pytest.approx(1 / (len(bundle) - 1))
    assert simulated_next_clicks(pure, skeleton(2), given_b, 1, 20_000)[a] == pytest.approx(
        from_b[a], abs=0.015
    )


def test_new_clicks_come_from_the_configured_part():
    # All of a part's share: every new click is a successor of the click before (sequential)
    # or in the bundle of an earlier item (co-occurrence), unless that part has nothing left.
    for part in ("sequential", "cooccurrence"):
        shares = {"sequential_share": 0.0, "cooccurrence_share": 0.0, "jump_share": 0.0}
        shop = small_shop(revisit=(0.0, 0.0, 0.0), **{**shares, f"{part}_share": 1.0})
        shape = skeleton(6, rows=2000)
        clicks, _ = simulate_sessions(np.random.default_rng(5), shop, shape)
        previous, current = clicks[:, 0].astype(int), clicks[:, 1].astype(int)
        if part == "sequential":
            follows = (shop.successors[previous] == current[:, None]).any(axis=1)
        else:
            follows = shop.bundle[previous] == shop.bundle[current]
        assert follows.mean() > 0.97


def test_revisit_probabilities_average_to_the_share():
    weights = np.asarray(expected_events(OTTO))
    for share in (0.0, 0.1, 0.35, 0.8, 1.0):
        by_type = np.asarray(revisit_by_type({**OTTO, "revisit_share": share}))
        assert (weights * by_type).sum() / weights.sum() == pytest.approx(share, abs=1e-9)
        if 0 < share < 1:
            assert by_type[0] < by_type[1] < by_type[2]  # carts and orders revisit more

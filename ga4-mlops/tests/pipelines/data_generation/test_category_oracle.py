"""The category taste and the oracle of the next purchase's category, checked against the
generator's own simulation (seeded Monte Carlo), with checks that the test would see a taste
the oracle ignored."""

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest
import yaml

from ga4_mlops.pipelines.data_generation.nodes import (
    generate_ga4_events,
    oracle_class_probabilities,
    oracle_probabilities,
)
from ga4_mlops.pipelines.data_generation.oracle import TRUTH_COLUMNS
from ga4_mlops.pipelines.data_generation.sessions import build_simulation, day_events
from ga4_mlops.pipelines.data_generation.vocabulary import ITEM_CATEGORIES

PARAMETERS = (
    Path(__file__).resolve().parents[3] / "conf" / "base" / "parameters_data_generation.yml"
)
START = pd.Timestamp("2020-11-01")
SNAPSHOT = pd.Timestamp("2020-11-08")
HORIZON = 21
N_DAYS = 28
TASTE = 0.6
CLASSES = ["(none)", *ITEM_CATEGORIES]
COLUMNS = {"problem_type": "multiclass", "target": "next_purchase_category", "classes": CLASSES}


def params(taste: float = TASTE, **overrides) -> dict:
    data_generation = copy.deepcopy(yaml.safe_load(PARAMETERS.read_text())["data_generation"])
    data_generation["session"]["category_taste"] = taste
    return {**data_generation, "seed": 17, "n_users": 300000, "n_days": N_DAYS, **overrides}


def purchases_of(table) -> pd.DataFrame:
    """Each purchase event: user, timestamp, its first line's category and its revenue."""
    names = table.column("event_name").to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(names == "purchase")
    purchases = table.take(rows)
    first_line = pc.list_element(purchases.column("items").combine_chunks(), 0)
    return pd.DataFrame(
        {
            "user": purchases.column("user_pseudo_id").to_numpy(zero_copy_only=False),
            "ts": purchases.column("event_timestamp").to_numpy(),
            "category": pc.struct_field(first_line, "item_category").to_numpy(zero_copy_only=False),
            "revenue": pc.struct_field(
                purchases.column("ecommerce").combine_chunks(), "purchase_revenue_in_usd"
            ).to_numpy(zero_copy_only=False),
        }
    )


@pytest.fixture(scope="module")
def simulated():
    """Users, every purchase and the first day each user was seen, with taste 0.6."""
    simulation, users = build_simulation(params())
    purchases, seen = [], []
    for day in range(N_DAYS):
        table = day_events(simulation, day)
        purchases.append(purchases_of(table).assign(date=START + pd.Timedelta(days=day)))
        seen.append(
            pd.DataFrame(
                {
                    "user": np.unique(
                        table.column("user_pseudo_id").to_numpy(zero_copy_only=False)
                    ),
                    "date": START + pd.Timedelta(days=day),
                }
            )
        )
    first_seen = pd.concat(seen).groupby("user")["date"].min()
    return users, pd.concat(purchases, ignore_index=True), first_seen


def observed_classes(keys: pd.DataFrame, purchases: pd.DataFrame) -> np.ndarray:
    """The realised class per key: the first purchase's first-line category, or (none)."""
    window = purchases[
        (purchases["date"] >= SNAPSHOT)
        & (purchases["date"] < SNAPSHOT + pd.Timedelta(HORIZON, "D"))
    ]
    first = window.sort_values("ts").drop_duplicates("user").set_index("user")["category"]
    return first.reindex(keys["user_pseudo_id"]).fillna("(none)").to_numpy()


def within(observed: float, expected: np.ndarray, label: str) -> float:
    """|observed - expected| in standard deviations of a sum of Bernoulli variables."""
    sd = np.sqrt((expected * (1 - expected)).sum())
    gap = abs(observed - expected.sum()) / sd
    assert gap < 4, (label, observed, expected.sum())
    return sd


def test_class_probabilities_match_the_simulated_first_purchases(simulated):
    users, purchases, first_seen = simulated
    # keys: users seen before the snapshot, as in the feature query
    keys = pd.DataFrame(
        {"user_pseudo_id": first_seen[first_seen < SNAPSHOT].index, "snapshot_date": SNAPSHOT}
    )
    probability = oracle_class_probabilities(users, keys, HORIZON, COLUMNS)
    observed = observed_classes(keys, purchases)
    assert list(probability.columns[:2]) == [
        "oracle_probability_none",
        "oracle_probability_apparel",
    ]
    np.testing.assert_allclose(probability.sum(axis=1), 1.0)
    buy = oracle_probabilities(users, keys, HORIZON, "purchase").to_numpy()
    np.testing.assert_allclose(probability["oracle_probability_none"], 1 - buy)
    assert (observed != "(none)").sum() > 1000
    for position, label in enumerate(CLASSES):
        within((observed == label).sum(), probability.iloc[:, position].to_numpy(), label)

    # The taste shows where the classes meet the favourite: buyers of their favourite.
    favourite = users.set_index("user_pseudo_id")["favourite_category"].reindex(
        keys["user_pseudo_id"]
    )
    position = np.array([CLASSES.index(c) for c in favourite])
    expected = probability.to_numpy()[np.arange(len(keys)), position]
    matches = (observed == favourite.to_numpy()).sum()
    sd = within(matches, expected, "bought the favourite")
    # an oracle that ignored the taste (popularity shares only) would be far off
    untasted = oracle_class_probabilities(
        users.assign(**category_shares_without_taste(users)), keys, HORIZON, COLUMNS
    ).to_numpy()[np.arange(len(keys)), position]
    assert abs(matches - untasted.sum()) > 15 * sd


def category_shares_without_taste(users: pd.DataFrame) -> dict[str, np.ndarray]:
    """The truth's category shares with the favourite's part taken out (popularity alone)."""
    shares = users.filter(like="category_probability_").to_numpy()
    one_hot = np.eye(len(ITEM_CATEGORIES))[
        [ITEM_CATEGORIES.index(c) for c in users["favourite_category"]]
    ]
    popularity = (shares - TASTE * one_hot) / (1 - TASTE)
    return dict(zip(users.filter(like="category_probability_").columns, popularity.T, strict=True))


def value_gaps(purchases: pd.DataFrame, value: pd.Series, favourite: pd.Series) -> list[float]:
    """Per favourite category: (realised - expected revenue) of its users' purchases, in
    standard deviations of a sum of that many purchase values."""
    frame = purchases.assign(
        expected=value.reindex(purchases["user"]).to_numpy(),
        favourite=favourite.reindex(purchases["user"]).to_numpy(),
    )
    sd_one = frame["revenue"].to_numpy(dtype=float).std()
    return [
        (group["revenue"].sum() - group["expected"].sum()) / (np.sqrt(len(group)) * sd_one)
        for _, group in frame.groupby("favourite")
    ]


def test_mean_purchase_value_follows_the_favourite_category(simulated):
    users, purchases, _ = simulated
    truth = users.set_index("user_pseudo_id")
    gaps = value_gaps(purchases, truth["purchase_value_mean_usd"], truth["favourite_category"])
    assert max(abs(g) for g in gaps) < 4, gaps
    # the store's mean price (no taste) would miss the favourites' purchases
    _, untasted = build_simulation(params(taste=0.0))
    store_value = untasted.set_index("user_pseudo_id")["purchase_value_mean_usd"]
    gaps = value_gaps(purchases, store_value, truth["favourite_category"])
    assert max(abs(g) for g in gaps) > 6, gaps


def test_taste_moves_items_only_and_zero_taste_draws_nothing():
    small = {"n_users": 3000, "n_days": 3}
    tasted, tasted_users = build_simulation(params(**small))
    plain, plain_users = build_simulation(params(taste=0.0, **small))
    without_key = params(taste=0.0, **small)
    del without_key["session"]["category_taste"]
    absent, _ = build_simulation(without_key)
    for day in range(3):
        a, b, c = day_events(tasted, day), day_events(plain, day), day_events(absent, day)
        assert b.equals(c)  # the default (0) is the store without the key
        # same sessions, funnel and timestamps: the taste has its own random streams
        for column in ("event_name", "event_timestamp", "user_pseudo_id"):
            assert a.column(column).equals(b.column(column)), column
        assert not a.column("items").equals(b.column("items"))
    assert (plain_users["category_taste"] == 0).all()
    pd.testing.assert_frame_equal(
        tasted_users.drop(columns=[c for c in tasted_users if "categor" in c or "value" in c]),
        plain_users.drop(columns=[c for c in plain_users if "categor" in c or "value" in c]),
    )


def test_the_truth_holds_the_favourite_and_exact_category_shares():
    _, truth = generate_ga4_events(params(n_users=2000, n_days=7))
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    shares = truth.filter(like="category_probability_")
    assert shares.shape[1] == len(ITEM_CATEGORIES)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert set(truth["favourite_category"]) == set(ITEM_CATEGORIES)
    assert (truth["category_taste"] == TASTE).all()
    favourite_share = shares.to_numpy()[
        np.arange(len(truth)), [ITEM_CATEGORIES.index(c) for c in truth["favourite_category"]]
    ]
    assert (favourite_share > TASTE).all()


def test_class_probabilities_refuse_bad_classes_and_zero_unknown_ones():
    _, users = build_simulation(params(n_users=2000, n_days=7))
    keys = pd.DataFrame({"user_pseudo_id": users["user_pseudo_id"].head(3), "snapshot_date": START})
    extra = {**COLUMNS, "classes": [*CLASSES, "Gift Cards"]}
    probability = oracle_class_probabilities(users, keys, 7, extra)
    assert (probability["oracle_probability_gift_cards"] == 0).all()
    np.testing.assert_allclose(probability.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match=r"lacks the item categor\(ies\) \['New'\]"):
        oracle_class_probabilities(users, keys, 7, {**COLUMNS, "classes": CLASSES[:-1]})
    with pytest.raises(ValueError, match=r"must hold '\(none\)'"):
        oracle_class_probabilities(users, keys, 7, {**COLUMNS, "classes": CLASSES[1:]})
    with pytest.raises(ValueError, match=r"ga4_user_truth lacks column\(s\)"):
        oracle_class_probabilities(users.drop(columns="category_probability_new"), keys, 7, COLUMNS)


@pytest.mark.parametrize("taste", [-0.1, 1.5, "high", True])
def test_a_bad_taste_is_refused_with_the_parameter_named(taste):
    with pytest.raises(
        ValueError,
        match=r"params data_generation: session.category_taste must be a number in \[0, 1\]",
    ):
        generate_ga4_events(params(taste=taste, n_users=50, n_days=2))

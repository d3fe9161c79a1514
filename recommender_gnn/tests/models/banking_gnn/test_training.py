"""Fit and score on generated data: held products are never scored, no month-m product reaches
month m's scores, a customer's scores move with its own edges only, a seed fixes the scores,
top_k ranks with ties in PRODUCTS order, and the GNN beats popularity's MAP@7 on the
validation month."""

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
import yaml

from recommender_gnn.models.banking_gnn import (
    fit_banking_gnn,
    score_banking_gnn,
    top_k,
    training_months,
)
from recommender_gnn.pipelines.banking_data.contract import (
    PRODUCTS,
    VALIDATION_MONTH,
    added_products,
    clean_santander,
)
from recommender_gnn.pipelines.banking_data.generator import generate_santander
from recommender_gnn.pipelines.banking_data.metrics import (
    map_at_k,
    oracle_month,
    oracle_predictions,
    popularity_predictions,
)
from tests.kedro_cli import BLUEPRINT

GENERATOR = yaml.safe_load(
    (BLUEPRINT / "conf" / "base" / "parameters_banking_data.yml").read_text()
)["banking_data"]["generator"]
FAST = {"embedding_dim": 16, "n_layers": 1, "max_epochs": 2, "batch_size": 256, "device": "cpu"}


@lru_cache(maxsize=2)
def _generated(n_customers: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = generate_santander({**GENERATOR, "seed": 42, "n_customers": n_customers})
    return clean_santander(data["train"], "santander_train", has_products=True), data["oracle"]


def train_table(n_customers: int) -> pd.DataFrame:
    return _generated(n_customers)[0].copy()


def test_held_products_are_never_scored_and_the_columns_are_typed():
    train = train_table(600)
    checkpoint, history = fit_banking_gnn(train, [13, 14], FAST)
    assert list(history.columns) == ["epoch", "loss", "valid_map_all", "valid_map_adders",
                                     "seconds"]  # fmt: skip
    assert history["epoch"].tolist() == [1, 2] and checkpoint["best_epoch"] == 2
    scores = score_banking_gnn(checkpoint, train, VALIDATION_MONTH)
    assert scores.dtypes.astype(str).tolist() == ["int32", "object", "float32"]
    last = train[train["month"] == VALIDATION_MONTH - 1].set_index("customer")[PRODUCTS]
    held = last.reset_index().melt("customer", var_name="product", value_name="held")
    joined = scores.merge(held, on=["customer", "product"], how="left", validate="one_to_one")
    assert joined["held"].notna().all() and (joined["held"] == 0).all()
    # every product not held is scored, for every customer of the month before
    assert len(scores) == int((last == 0).to_numpy().sum())
    assert set(scores["customer"]) == set(last.index)


def test_the_target_months_products_never_reach_its_scores():
    train = train_table(600)
    checkpoint, _ = fit_banking_gnn(train, [13, 14], FAST)
    scores = score_banking_gnn(checkpoint, train, VALIDATION_MONTH)
    planted = train.copy()
    planted.loc[planted["month"] == VALIDATION_MONTH, PRODUCTS] = 1
    pd.testing.assert_frame_equal(score_banking_gnn(checkpoint, planted, VALIDATION_MONTH), scores)
    with pytest.raises(ValueError, match="before the validation month"):
        fit_banking_gnn(train, [14, 16], FAST, valid=(train, VALIDATION_MONTH))


def test_a_customers_scores_depend_on_its_own_edges_only():
    """Message passing is used (products held two months before change the scores) and is
    local: the other customers' scores do not move, whatever batch they share."""
    train = train_table(600)
    checkpoint, _ = fit_banking_gnn(train, [13, 14], FAST)
    scores = score_banking_gnn(checkpoint, train, VALIDATION_MONTH)
    customer = scores["customer"].iloc[0]
    changed = train.copy()
    changed.loc[(changed["month"] == VALIDATION_MONTH - 2) & (changed["customer"] == customer),
                PRODUCTS] = 1  # fmt: skip
    again = score_banking_gnn(checkpoint, changed, VALIDATION_MONTH)
    mine = scores["customer"] == customer
    assert not np.allclose(again.loc[mine, "score"], scores.loc[mine, "score"])
    pd.testing.assert_frame_equal(again[~mine], scores[~mine])


def test_the_same_seed_gives_the_same_scores_and_another_seed_others():
    train = train_table(600)

    def scores(seed: int) -> pd.DataFrame:
        params = {**FAST, "seed": seed, "n_layers": 2, "dropout": 0.2}
        checkpoint, _ = fit_banking_gnn(train, [14, 15], params)
        return score_banking_gnn(checkpoint, train, VALIDATION_MONTH)

    first = scores(7)
    pd.testing.assert_frame_equal(scores(7), first)
    assert not np.array_equal(scores(8)["score"].to_numpy(), first["score"].to_numpy())


def test_top_k_ranks_by_score_with_ties_in_products_order():
    a, b, c, d = PRODUCTS[0], PRODUCTS[5], PRODUCTS[10], PRODUCTS[20]
    scores = pd.DataFrame(
        {
            "customer": np.array([2, 2, 2, 2, 1, 1], dtype=np.int32),
            "product": [d, c, b, a, a, b],
            "score": np.array([0.9, 0.5, 0.5, 0.1, 0.2, 0.7], dtype=np.float32),
        }
    )
    ranked = top_k(scores, k=3)
    expected = pd.DataFrame(
        {"customer": [1, 1, 2, 2, 2], "product": [b, a, d, b, c], "rank": [1, 2, 1, 2, 3]}
    )
    pd.testing.assert_frame_equal(ranked, expected, check_dtype=False)


def test_training_months_take_the_recent_months_and_the_same_month_last_year():
    assert training_months(16) == [4, 12, 13, 14, 15]
    assert training_months(17, {"n_recent_months": 2}) == [5, 15, 16]
    assert training_months(3, {"same_month_last_year": False}) == [1, 2]


def _recent_rates(train: pd.DataFrame, months: list[int], month: int) -> pd.DataFrame:
    """No personalisation: every customer's products ranked by how often they were added in
    the GNN's own training months (what a model that learnt nothing per customer would do)."""
    additions = added_products(train[train["month"] >= min(months) - 1])
    counts = additions[additions["month"].isin(months)]["product"].value_counts()
    last = train[train["month"] == month - 1]
    held = last[PRODUCTS].to_numpy(dtype=bool)
    rows, columns = np.nonzero(~held)
    return pd.DataFrame(
        {
            "customer": last["customer"].to_numpy()[rows],
            "product": np.asarray(PRODUCTS, dtype=object)[columns],
            "score": counts.reindex(PRODUCTS, fill_value=0).to_numpy(np.float32)[columns],
        }
    )


def test_the_gnn_beats_popularity_on_the_validation_month():
    """And beats the same months' overall addition rates, closing at least a third of the gap
    between popularity and the oracle (0.0395 against 0.0358 and 0.0425 when written): the
    same GNN trained on labels shuffled across customers beat popularity (0.0362) but not the
    rates (0.0365)."""
    train, oracle = _generated(4000)
    months = training_months(VALIDATION_MONTH)
    params = {"embedding_dim": 32, "n_layers": 2, "max_epochs": 12, "patience": 3,
              "device": "cpu"}  # fmt: skip
    checkpoint, history = fit_banking_gnn(train, months, params, valid=(train, VALIDATION_MONTH))
    truth = added_products(train[train["month"] >= VALIDATION_MONTH - 1])
    truth = truth[truth["month"] == VALIDATION_MONTH]
    listed = train.loc[train["month"] == VALIDATION_MONTH, "customer"]

    def score(ranking: pd.DataFrame) -> float:
        return map_at_k(ranking, truth, listed)["map_all"]

    gnn = score(top_k(score_banking_gnn(checkpoint, train, VALIDATION_MONTH)))
    popularity = score(popularity_predictions(train, VALIDATION_MONTH))
    best = score(oracle_predictions(oracle_month(oracle, VALIDATION_MONTH)))
    assert gnn == pytest.approx(checkpoint["best_valid_map"])
    assert history["valid_map_all"].max() == pytest.approx(checkpoint["best_valid_map"])
    assert gnn > popularity and gnn > score(top_k(_recent_rates(train, months, VALIDATION_MONTH)))
    assert gnn - popularity > (best - popularity) / 3

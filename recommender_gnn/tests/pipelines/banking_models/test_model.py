"""LightGBM never recommends a held product, is deterministic for a seed, and is tuned with the
shared Optuna helper (trial 0 = the defaults, the chosen trial's rounds kept)."""

import numpy as np
import pandas as pd

from recommender_gnn.pipelines.banking_data.contract import (
    PRODUCTS,
    VALIDATION_MONTH,
    added_products,
)
from recommender_gnn.pipelines.banking_data.metrics import map_at_k
from recommender_gnn.pipelines.banking_models.model import (
    booster_params,
    fit,
    held_last_month,
    predict,
    rank_products,
)
from recommender_gnn.pipelines.banking_models.nodes import (
    tune_banking_lightgbm,
    validation_datasets,
)


def test_rank_products_skips_held_ones():
    probabilities = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    held = np.array([[True, False, False], [False, False, True]])
    ranked = rank_products(np.array([10, 20]), np.pad(probabilities, ((0, 0), (0, 21))),
                           np.pad(held, ((0, 0), (0, 21))), 2)  # fmt: skip
    assert ranked.to_numpy().tolist() == [
        [10, PRODUCTS[1], 1], [10, PRODUCTS[2], 2], [20, PRODUCTS[0], 1], [20, PRODUCTS[1], 2],
    ]  # fmt: skip


def test_lightgbm_never_recommends_held_products_and_is_deterministic(santander, params):
    rows, candidates = validation_datasets(santander["train"], params)
    config, features = params["lightgbm"], params["features"]
    assert booster_params(config)["num_threads"] == 1
    first = predict(fit(rows, config, features, 15), candidates, features, 7)
    again = predict(fit(rows, config, features, 15), candidates, features, 7)
    pd.testing.assert_frame_equal(first, again)
    held = pd.DataFrame(held_last_month(candidates), columns=PRODUCTS)
    held["customer"] = candidates["customer"].to_numpy()
    long = held.melt("customer", var_name="product", value_name="held")
    merged = first.merge(long, on=["customer", "product"], how="left")
    assert len(merged) == len(first) and not merged["held"].any()
    assert first.groupby("customer").size().max() == 7
    assert held[PRODUCTS].to_numpy().any()  # there were held products to leave out
    other_seed = predict(fit(rows, {**config, "seed": 99}, features, 15), candidates, features, 7)
    assert not first.equals(other_seed)  # bagging and feature_fraction follow the seed


def test_tuning_keeps_the_chosen_trials_rounds(santander, params, tuning):
    train = santander["train"]
    rows, candidates = validation_datasets(train, params)
    chosen, trials, predictions = tune_banking_lightgbm(rows, candidates, train, params, tuning)
    assert len(trials) == 2 and trials["chosen"].sum() == 1
    first = trials.iloc[0]
    assert first["learning_rate"] == params["lightgbm"]["learning_rate"]  # trial 0: defaults
    assert first["num_leaves"] == params["lightgbm"]["num_leaves"]
    best = trials[trials["chosen"]].iloc[0]
    assert chosen["num_boost_round"] == best["best_rounds"] <= 40
    assert best["best_rounds"] % 10 == 0 and best["map_all"] == trials["map_all"].max()
    assert {"clicks", "carts", "orders"}.isdisjoint(trials.columns)
    # The chosen trial's predictions score its MAP@7.
    truth = added_products(train).query("month == @VALIDATION_MONTH")
    customers = train.loc[train["month"] == VALIDATION_MONTH, "customer"]
    assert map_at_k(predictions, truth, customers, 7)["map_all"] == best["map_all"]

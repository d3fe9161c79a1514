"""The banking GNN's nodes, the blend and the submission gate."""

import pandas as pd
import pytest

from recommender_gnn.pipelines.banking_data.contract import (
    PRODUCTS,
    TEST_MONTH,
    VALIDATION_MONTH,
    added_products,
)
from recommender_gnn.pipelines.banking_data.metrics import map_at_k
from recommender_gnn.pipelines.banking_models.gnn_nodes import (
    fuse_rankings,
    predict_banking_gnn_test,
    refit_banking_gnn,
    tune_banking_blend,
    tune_banking_gnn,
)
from recommender_gnn.pipelines.banking_models.nodes import (
    banking_submission,
    decide_banking_submission,
)

A, B, C, D = PRODUCTS[:4]


def ranking(rows):
    return pd.DataFrame(rows, columns=["customer", "product", "rank"])


def test_fusion_sums_weighted_reciprocal_ranks():
    lightgbm = ranking([(1, A, 1), (1, B, 2), (2, C, 1)])
    gnn = ranking([(1, B, 1), (1, C, 2), (2, D, 1)])
    fused = fuse_rankings({"lightgbm": lightgbm, "gnn": gnn}, {"lightgbm": 1.0, "gnn": 1.0}, 2)
    # customer 1: B 1/62 + 1/61 > A 1/61 > C 1/62; customer 2: C and D tie -> by product name.
    assert fused.to_numpy().tolist() == [[1, B, 1], [1, A, 2], [2, C, 1], [2, D, 2]]
    alone = fuse_rankings({"lightgbm": lightgbm, "gnn": gnn}, {"lightgbm": 1.0, "gnn": 0.0}, 2)
    assert alone.to_numpy().tolist() == [[1, A, 1], [1, B, 2], [2, C, 1], [2, D, 2]]


def test_blend_weight_is_the_best_on_validation(santander, params):
    train = santander["train"]
    truth = added_products(train).query("month == @VALIDATION_MONTH")
    customers = train.loc[train["month"] == VALIDATION_MONTH, "customer"].unique()
    wrong = ranking([(c, PRODUCTS[0], 1) for c in customers])
    right = truth.groupby("customer").head(1).assign(rank=1)[["customer", "product", "rank"]]
    weights, grid, blended = tune_banking_blend(train, wrong, right, params)
    assert weights["gnn"] == max(params["blend"]["gnn_weights"])  # the GNN holds the answers
    assert grid["map_all"].max() == pytest.approx(map_at_k(blended, truth, customers, 7)["map_all"])
    weights, _, _ = tune_banking_blend(train, right, wrong, params)
    assert weights["gnn"] == 0.0  # the first of the equal best scores: LightGBM's order alone


def test_submission_gate_falls_back_to_the_strongest_baseline(santander, params):
    scores = pd.DataFrame({"split": "validation", "model": ["popularity", "blend"],
                           "map_all": [0.030, 0.031]})  # fmt: skip
    decision = decide_banking_submission(scores, params)
    assert decision["submitted"] == "blend"
    strict = {**params, "submission": {"model": "blend", "min_uplift_over_best_baseline": 0.01}}
    decision = decide_banking_submission(scores, strict)
    assert decision["submitted"] == "popularity" and decision["uplift"] == pytest.approx(0.001)
    train, test = santander["train"], santander["test"]
    blend = ranking([(c, A, 1) for c in test["customer"]])
    submitted = banking_submission(decision, blend, blend, blend, train, test, params)
    assert len(submitted) == len(test)
    assert (submitted["added_products"] != A).any()  # popularity's lists, not the blend's


def test_gnn_nodes_tune_refit_and_predict_every_test_customer(santander, params):
    train, test = santander["train"], santander["test"]
    params = {**params, "gnn": {**params["gnn"], "max_epochs": 2, "seed": 3}}
    tuning = {"n_trials": 2, "seed": 5, "pruner": {}}
    chosen, trials, valid = tune_banking_gnn(train, params, tuning)
    assert len(trials) == 2 and trials["chosen"].sum() == 1
    assert chosen["max_epochs"] == int(trials.loc[trials["chosen"], "best_epoch"].iloc[0])
    assert valid["rank"].between(1, 7).all()
    checkpoint = refit_banking_gnn(train, chosen, params)
    assert max(checkpoint["config"]["target_months"]) == VALIDATION_MONTH  # refit sees May
    predicted = predict_banking_gnn_test(checkpoint, train, test, params)
    assert set(predicted["customer"]) == set(test["customer"])
    assert TEST_MONTH == VALIDATION_MONTH + 1

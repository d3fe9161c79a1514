"""Lag features read only months before the target month, count what they say, and the
training rows are exactly the additions of the target months."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.banking_data.contract import (
    PRODUCTS,
    TEST_MONTH,
    VALIDATION_MONTH,
    added_products,
)
from recommender_gnn.pipelines.banking_models.features import (
    LABEL,
    candidate_features,
    category_vocabulary,
    feature_names,
    month_features,
    target_months,
    training_rows,
)
from recommender_gnn.pipelines.banking_models.nodes import refit_datasets, validation_datasets


def vocabulary(train, params):
    return category_vocabulary(train, params["features"]["categorical_attributes"])


def test_features_ignore_the_target_month_and_later(santander, params):
    train, month = santander["train"], 10
    config = params["features"]
    attributes = train[train["month"] == month]
    customers = np.sort(train.loc[train["month"] == month - 1, "customer"].unique())[:300]
    codes = vocabulary(train, params)
    before = month_features(train, attributes, month, customers, config, codes)
    planted = train.copy()
    planted.loc[planted["month"] >= month, PRODUCTS] = 1  # every product held from month m on
    after = month_features(planted, attributes, month, customers, config, codes)
    pd.testing.assert_frame_equal(before, after)
    # ... while a change at m-1 shows in lag 1.
    planted.loc[planted["month"] == month - 1, PRODUCTS] = 1
    lagged = month_features(planted, attributes, month, customers, config, codes)
    assert (lagged[[f"lag1_{p.split('_')[1]}" for p in PRODUCTS[:3]]] == 1).all().all()
    assert not before.equals(lagged)
    assert list(before.columns) == ["customer", "month", *feature_names(config)]


def test_lags_counts_and_missing_months():
    # One customer over months 0..4 holding ind_cco_fin_ult1 as 0,1,1,0,1; another only in 4.
    flags = [0, 1, 1, 0, 1]
    rows = []
    for month, flag in enumerate(flags):
        rows.append({"customer": 1, "month": month, **dict.fromkeys(PRODUCTS, 0),
                     "ind_cco_fin_ult1": flag})  # fmt: skip
    rows.append({"customer": 2, "month": 4, **dict.fromkeys(PRODUCTS, 1)})
    train = pd.DataFrame(rows)
    train["age"], train["segmento"] = 30.0, pd.Categorical(["02 - PARTICULARES"] * len(train))
    config = {"lags": 5, "numeric_attributes": ["age"], "categorical_attributes": ["segmento"]}
    segments = pd.Categorical(["02 - PARTICULARES", "01 - TOP"])
    attributes = pd.DataFrame({"customer": [1, 2], "age": [31.0, 50.0], "segmento": segments})
    features = month_features(train, attributes, 5, np.array([1, 2]), config,
                              category_vocabulary(train, ["segmento"]))  # fmt: skip
    one, two = features.iloc[0], features.iloc[1]
    assert [one[f"lag{lag}_cco"] for lag in range(1, 6)] == [1, 0, 1, 1, 0]
    assert (one["adds_cco"], one["drops_cco"], one["held_cco"]) == (2, 1, 3)
    assert one["months_present"] == 5 and two["months_present"] == 1
    assert np.isnan(two["lag2_cco"]) and two["adds_cco"] == 0 and two["n_held_lag1"] == 24
    assert one["age"] == 31 and one["calendar_month"] == 6  # month 5 is June 2015
    assert one["segmento"] == 0 and np.isnan(two["segmento"])  # "01 - TOP" unseen in train


def test_training_rows_are_the_additions_of_the_target_months(santander, params):
    train = santander["train"]
    months = target_months(VALIDATION_MONTH, params["features"]["target_offsets"])
    assert months == [4, 12, 13, 14, 15]
    rows = training_rows(train, months, params["features"], vocabulary(train, params))
    additions = added_products(train)
    expected = additions[additions["month"].isin(months)]
    got = pd.DataFrame({"customer": rows["customer"], "month": rows["month"],
                        "product": np.asarray(PRODUCTS)[rows[LABEL]]})  # fmt: skip
    key = ["customer", "month", "product"]
    assert len(got) > 100
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True).astype(str),
        expected[key].sort_values(key).reset_index(drop=True).astype(str),
    )
    # An added product was not held in m-1: its lag-1 flag is 0.
    short = [p.removeprefix("ind_").removesuffix("_ult1").removesuffix("_fin") for p in PRODUCTS]
    lag1 = rows[[f"lag1_{s}" for s in short]].to_numpy()
    assert (lag1[np.arange(len(rows)), rows[LABEL]] == 0).all()
    with pytest.raises(ValueError, match="target_offsets must be >= 1"):
        target_months(VALIDATION_MONTH, [0, 1])


def test_validation_sees_only_months_before_16_and_the_refit_uses_16(santander, params):
    train, test = santander["train"], santander["test"]
    rows, candidates = validation_datasets(train, params)
    assert rows["month"].max() == VALIDATION_MONTH - 1 and set(rows["month"]) < set(range(16))
    assert (candidates["month"] == VALIDATION_MONTH).all()
    present_15 = set(train.loc[train["month"] == VALIDATION_MONTH - 1, "customer"])
    in_16 = set(train.loc[train["month"] == VALIDATION_MONTH, "customer"])
    assert set(candidates["customer"]) == present_15 & in_16
    refit_rows, test_candidates = refit_datasets(train, test, params)
    assert VALIDATION_MONTH in set(refit_rows["month"])
    assert set(refit_rows["month"]) == {5, 13, 14, 15, 16}  # June 2015 for June 2016
    assert (test_candidates["month"] == TEST_MONTH).all()
    assert set(test_candidates["customer"]) == set(test["customer"]) & in_16
    # The test month's attributes come from santander_test.
    ages = test.set_index("customer")["age"].reindex(test_candidates["customer"]).to_numpy()
    np.testing.assert_array_equal(test_candidates["age"].to_numpy(), ages.astype("float32"))


def test_candidates_need_the_previous_month(santander, params):
    train = santander["train"]
    attributes = train[train["month"] == 3]
    got = candidate_features(train, attributes, 3, params["features"], vocabulary(train, params))
    expected = set(attributes["customer"]) & set(train.loc[train["month"] == 2, "customer"])
    assert set(got["customer"]) == expected and len(expected) < attributes["customer"].nunique()

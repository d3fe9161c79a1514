"""Per-customer AP averages to map_at_k, the bootstrap is paired and seeded, popularity covers
customers with no previous month, and the submission is Kaggle's format."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.banking_data.contract import PRODUCTS, TEST_MONTH
from recommender_gnn.pipelines.banking_data.metrics import (
    average_precision,
    map_at_k,
    popularity_predictions,
)
from recommender_gnn.pipelines.banking_models.evaluation import (
    paired_bootstrap,
    popularity_for,
    submission_frame,
    with_fallback,
)


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    customers = np.arange(100, 400)
    truth = pd.DataFrame({"customer": rng.choice(customers, 200),
                          "product": rng.choice(PRODUCTS[:8], 200)})  # fmt: skip
    n = 1500  # repeated products and unlisted customers (ids >= 400) included
    predictions = pd.DataFrame({"customer": rng.choice(np.arange(100, 450), n),
                                "product": rng.choice(PRODUCTS[:10], n),
                                "rank": rng.integers(1, 12, n)})  # fmt: skip
    return predictions, truth, customers


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mean_average_precision_is_map_at_k(seed):
    predictions, truth, customers = random_case(seed)
    per_customer = average_precision(predictions, truth, customers, 7)
    scores = map_at_k(predictions, truth, customers, 7)
    assert len(per_customer) == len(customers) and per_customer.index.is_monotonic_increasing
    assert per_customer.mean() == pytest.approx(scores["map_all"], abs=1e-12)
    adders = per_customer[per_customer.index.isin(truth["customer"])]
    assert adders.mean() == pytest.approx(scores["map_adders"], abs=1e-12)
    others = per_customer[~per_customer.index.isin(truth["customer"])]
    assert scores["map_all"] > 0 and len(others) and (others == 0).all()


def test_bootstrap_is_paired_seeded_and_covers_the_mean():
    rng = np.random.default_rng(0)
    base = rng.random(2000) * (rng.random(2000) < 0.1)
    better = base + 0.01 * (rng.random(2000) < 0.5)
    scores = {"popularity": base, "lightgbm": better}
    first = paired_bootstrap(scores, 400, seed=1, reference="popularity")
    assert first == paired_bootstrap(scores, 400, seed=1, reference="popularity")
    assert first != paired_bootstrap(scores, 400, seed=2, reference="popularity")
    for model, values in scores.items():
        row = first[model]
        assert row["ci_low"] < values.mean() < row["ci_high"]
        assert row["mean"] == pytest.approx(values.mean())
    gap = first["lightgbm"]
    # Paired: the difference's interval is far narrower than either model's, and above 0.
    assert 0 < gap["diff_ci_low"] < gap["diff"] < gap["diff_ci_high"]
    assert gap["diff_ci_high"] - gap["diff_ci_low"] < (gap["ci_high"] - gap["ci_low"]) / 3
    assert first["popularity"]["diff_ci_low"] == first["popularity"]["diff_ci_high"] == 0


def test_popularity_for_customers_absent_from_the_previous_month(santander):
    train, test = santander["train"], santander["test"]
    last = set(train.loc[train["month"] == TEST_MONTH - 1, "customer"])
    newcomers = np.array([1, 2, 3], dtype="int32")  # not in the train table at all
    customers = np.concatenate([test["customer"].to_numpy(), newcomers])
    got = popularity_for(train, TEST_MONTH, customers, 7)
    reference = popularity_predictions(train, TEST_MONTH, 7)
    reference = reference[reference["customer"].isin(customers)]
    present = got[got["customer"].isin(last)].reset_index(drop=True)
    pd.testing.assert_frame_equal(present, reference.reset_index(drop=True), check_dtype=False)
    new = got[got["customer"].isin(newcomers)]
    assert new.groupby("customer").size().tolist() == [7, 7, 7]
    ranking = new[new["customer"] == 1]["product"].tolist()
    assert all(new[new["customer"] == c]["product"].tolist() == ranking for c in (2, 3))
    # with_fallback keeps a model's rows and adds popularity only for the unranked customers.
    model = pd.DataFrame({"customer": test["customer"].to_numpy()[:5], "product": PRODUCTS[0],
                          "rank": 1})  # fmt: skip
    combined = with_fallback(model, train, TEST_MONTH, customers, 7)
    assert set(combined["customer"]) == set(customers)
    assert (combined[combined["customer"].isin(model["customer"])]["product"] == PRODUCTS[0]).all()


def test_submission_format():
    predictions = pd.DataFrame({"customer": [5, 5, 9, 5], "rank": [2, 1, 1, 3],
                                "product": ["b", "a", "c", "d"]})  # fmt: skip
    frame = submission_frame(predictions, np.array([9, 7, 5]))
    assert list(frame.columns) == ["ncodpers", "added_products"]
    assert frame.to_numpy().tolist() == [[9, "c"], [7, ""], [5, "a b d"]]

"""Features: no leakage from the target week, embedding similarity, selection, bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender_ranking.pipelines.feature_engineering.nodes import (
    _similarity_to_profile,
    join_sql_features,
)
from recommender_ranking.pipelines.feature_engineering.selection import (
    dfs_customer_features,
    select_features,
)
from tests.ranking.hm_data import (
    article_id,
    make_synthetic,
    project_parameters,
    purchase,
    run_sql,
    write_tables,
)

FEATURE_QUERIES = [
    "customer_features",
    "article_features",
    "customer_article_features",
    "customer_attribute_features",
    "candidates_popularity",
    "candidates_segment_popularity",
    "candidates_repurchase",
    "candidates_same_product",
    "candidates_copurchase",
]


def everything(transactions: pd.DataFrame, world: dict, folder: Path) -> dict[str, pd.DataFrame]:
    tables = write_tables(folder, transactions, world["customers"], world["articles"])
    results = {name: run_sql(name, tables) for name in FEATURE_QUERIES}
    customer_weeks = run_sql("customer_weeks", tables)
    results["dfs"] = dfs_customer_features(
        transactions,
        world["customers"],
        world["articles"],
        customer_weeks,
        project_parameters()["feature_engineering"]["dfs"],
    )
    return results


def test_a_purchase_in_the_target_week_changes_no_feature_of_that_week(tmp_path):
    world = make_synthetic(n_customers=30, n_articles=16, n_days=42, seed=5)
    transactions = world["transactions"]
    last_day = transactions["t_dat"].max()
    validation_start = last_day - pd.Timedelta(days=13)  # first day of week 2
    buyer = transactions.loc[transactions["t_dat"] >= validation_start, "customer_id"].iloc[0]
    customer_index = int(buyer, 16)
    # a purchase on the validation week's first day: the target of week 2
    extra = pd.DataFrame([purchase(customer_index, 3, (last_day - validation_start).days)])
    leaked = pd.concat([transactions, extra.astype({"t_dat": "datetime64[ns]"})])
    before = everything(transactions, world, tmp_path / "before")
    after = everything(leaked, world, tmp_path / "after")
    for name, frame in before.items():
        keys = [
            c for c in ["week", "customer_id", "article_id", "attribute", "value"] if c in frame
        ]
        old = frame[frame["week"] >= 2].sort_values(keys).reset_index(drop=True)
        new = after[name][after[name]["week"] >= 2].sort_values(keys).reset_index(drop=True)
        pd.testing.assert_frame_equal(old, new, obj=name)
    # and the purchase is seen from the next week on (the test is not vacuous)
    week0 = before["customer_features"].query("week == 0 and customer_id == @buyer")
    week0_after = after["customer_features"].query("week == 0 and customer_id == @buyer")
    assert week0_after["customer_purchases"].iloc[0] == week0["customer_purchases"].iloc[0] + 1
    dfs_count = "dfs_count_transactions"
    assert (
        after["dfs"].query("week == 0 and customer_id == @buyer")[dfs_count].iloc[0]
        == before["dfs"].query("week == 0 and customer_id == @buyer")[dfs_count].iloc[0] + 1
    )


def test_similarity_to_recent_purchases_is_the_cosine_with_their_mean():
    vectors = pd.DataFrame(
        [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        index=[article_id(0), article_id(1), article_id(2)],
    )
    vectors = vectors.div(np.linalg.norm(vectors, axis=1), axis=0)
    recent = pd.DataFrame(
        {"week": 1, "customer_id": "c", "article_id": [article_id(0), article_id(1)]}
    )
    features = pd.DataFrame(
        {
            "week": [1, 1, 1, 2],
            "customer_id": ["c", "c", "c", "c"],
            "article_id": [article_id(2), article_id(0), article_id(9), article_id(2)],
        }
    )
    similarity = _similarity_to_profile(features, recent, vectors)
    assert similarity[0] == pytest.approx(1.0)  # (1,1) is the direction of the mean
    assert similarity[1] == pytest.approx(np.sqrt(0.5))
    assert np.isnan(similarity[2])  # article without a vector
    assert np.isnan(similarity[3])  # no recent purchase in week 2


def test_selection_drops_constant_mostly_null_and_correlated_columns():
    rng = np.random.default_rng(0)
    n = 200
    base = rng.normal(size=n)
    table = pd.DataFrame(
        {
            "week": 3,
            "customer_id": "c",
            "article_id": [str(i) for i in range(n)],
            "purchased": rng.integers(0, 2, n),
            "useful": base,
            "twin": 2 * base + 1e-6 * rng.normal(size=n),
            "constant": 1.0,
            "mostly_null": np.where(np.arange(n) < 1, 1.0, np.nan),
            "dfs_copy_of_useful": base,
            "dfs_new": rng.normal(size=n),
        }
    )
    params = {"first_training_week": 3, "max_null_share": 0.99, "max_correlation": 0.98}
    selection = select_features(table, params)
    assert selection["hand_written"] == ["useful"]
    assert selection["dfs"] == ["dfs_new"]
    assert selection["dropped"] == {
        "constant": ["constant"],
        "mostly_null": ["mostly_null"],
        "correlated": ["twin", "dfs_copy_of_useful"],
    }


def test_duplicate_feature_keys_are_refused_by_name():
    candidates = pd.DataFrame(
        {"week": [1], "customer_id": ["c"], "article_id": ["a"], "n_sources": [1]}
    )
    customer = pd.DataFrame({"week": [1, 1], "customer_id": ["c", "c"], "x": [1, 2]})
    article = pd.DataFrame({"week": [1], "article_id": ["a"], "article_product_type_no": [1]})
    pairs = pd.DataFrame(
        columns=[
            "week",
            "customer_id",
            "article_id",
            "pair_times_bought",
            "pair_product_times_bought",
        ]
    )
    attributes = pd.DataFrame(columns=["week", "customer_id", "attribute", "value", "share"])
    with pytest.raises(ValueError, match="duplicate keys"):
        join_sql_features(
            candidates, customer, article, pairs, attributes, {"affinity_attributes": []}
        )
    with pytest.raises(ValueError, match=r"customer_features lacks column\(s\) \['customer_id'\]"):
        join_sql_features(
            candidates,
            customer.drop(columns="customer_id"),
            article,
            pairs,
            attributes,
            {"affinity_attributes": []},
        )


def test_dfs_can_be_switched_off():
    customer_weeks = pd.DataFrame({"week": [1], "customer_id": ["c"], "cutoff": ["2020-09-16"]})
    frame = dfs_customer_features(None, None, None, customer_weeks, {"enabled": False})
    assert list(frame.columns) == ["week", "customer_id"]

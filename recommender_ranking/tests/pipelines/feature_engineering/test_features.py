"""Features: no leakage from the target week, embedding similarity, selection, bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender_ranking.pipelines.candidate_generation.nodes import KEYS
from recommender_ranking.pipelines.feature_engineering.nodes import (
    _positions,
    _similarity_to_profile,
    join_sql_features,
)
from recommender_ranking.pipelines.feature_engineering.selection import (
    dfs_customer_features,
    select_features,
)
from tests.ranking.hm_data import (
    article_id,
    customer_id,
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
    without_vectors = recent.assign(article_id=article_id(9))  # e.g. no image at all
    assert np.isnan(_similarity_to_profile(features, without_vectors, vectors)).all()


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


def test_key_lookups_give_the_positions_a_multiindex_gives():
    """_positions (integer key codes) = MultiIndex.get_indexer, with absent keys and values."""
    rng = np.random.default_rng(7)
    keys = pd.DataFrame(
        {
            "week": rng.integers(0, 4, 500),
            "customer_id": [customer_id(i) for i in rng.integers(0, 60, 500)],
            "article_id": [article_id(i) for i in rng.integers(0, 40, 500)],
        }
    ).drop_duplicates(ignore_index=True)
    rows = pd.concat([keys.sample(frac=1.0, random_state=1), keys.head(30)], ignore_index=True)
    rows.loc[::7, "week"] = 9  # a week no key has
    rows.loc[::11, "article_id"] = article_id(99)
    expected = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(rows))
    assert (expected == -1).any() and (expected >= 0).any()
    np.testing.assert_array_equal(_positions(keys, rows), expected)
    with pytest.raises(ValueError, match="repeat in a table joined"):
        _positions(pd.concat([keys, keys.head(1)]), rows)


def test_dfs_can_be_switched_off():
    customer_weeks = pd.DataFrame({"week": [1], "customer_id": ["c"], "cutoff": ["2020-09-16"]})
    frame = dfs_customer_features(None, None, None, customer_weeks, {"enabled": False})
    assert list(frame.columns) == ["week", "customer_id"]


def test_joined_features_keep_the_candidate_order_and_model_input_stays_grouped_by_query():
    from recommender_ranking.pipelines.feature_engineering.nodes import build_model_input
    from recommender_ranking.pipelines.model_training.nodes import query_groups

    candidates = pd.DataFrame(
        {
            "week": [0, 1, 1, 1, 2],
            "customer_id": ["b", "a", "a", "b", "a"],
            "article_id": ["x", "x", "y", "y", "x"],
            "n_sources": [1, 2, 1, 1, 1],
            "has_history": [True, True, False, True, True],
        }
    )
    customer = pd.DataFrame(  # rows in another order than the candidates
        {"week": [2, 1, 1, 0], "customer_id": ["a", "b", "a", "b"], "customer_x": [4, 3, 2, 1]}
    )
    article = pd.DataFrame(
        {
            "week": [1, 1, 0, 2],
            "article_id": ["y", "x", "x", "x"],
            "article_colour_group_code": [9, 8, 8, 8],
        }
    )
    pairs = pd.DataFrame(
        {
            "week": [1],
            "customer_id": ["a"],
            "article_id": ["y"],
            "pair_times_bought": [2],
            "pair_product_times_bought": [3],
            "pair_weeks_since_bought": [1.0],
        }
    )
    shares = pd.DataFrame(
        {
            "week": [1, 1],
            "customer_id": ["a", "a"],
            "attribute": ["colour_group_code", "colour_group_code"],
            "value": [9, 7],
            "share": [0.75, 0.25],
        }
    )
    features = join_sql_features(
        candidates, customer, article, pairs, shares, {"affinity_attributes": ["colour_group_code"]}
    )
    # the same values; numbers become float32 (n_sources included), keys keep their types
    pd.testing.assert_frame_equal(features[candidates.columns], candidates, check_dtype=False)
    numbers = features.columns.drop([*KEYS, "has_history"])
    assert set(features[numbers].dtypes.astype(str)) == {"float32"}
    assert features[KEYS].dtypes.astype(str).tolist() == ["int64", "object", "object"]
    in_blocks = join_sql_features(
        candidates,
        customer,
        article,
        pairs,
        shares,
        {"affinity_attributes": ["colour_group_code"], "join_chunk_rows": 2},
    )
    pd.testing.assert_frame_equal(in_blocks, features)  # blocks of 2 rows: same table
    # columns in the order of the tables (the ranker's column order depends on it)
    assert list(features.columns) == [
        *candidates.columns,
        "customer_x",
        "article_colour_group_code",
        "pair_times_bought",
        "pair_product_times_bought",
        "pair_weeks_since_bought",
        "affinity_colour_group_code",
    ]
    assert features["customer_x"].tolist() == [1, 2, 2, 3, 4]
    assert features["pair_times_bought"].tolist() == [0, 0, 2, 0, 0]
    assert np.isnan(features["pair_weeks_since_bought"]).tolist() == [1, 1, 0, 1, 1]
    assert features["affinity_colour_group_code"].tolist() == [0, 0, 0.75, 0, 0]
    labels = pd.DataFrame({"week": [1, 2], "customer_id": ["a", "a"], "article_id": ["y", "x"]})
    dfs = pd.DataFrame({"week": [2, 1, 0, 1], "customer_id": ["a", "b", "b", "a"]})
    table = build_model_input(features, dfs.assign(dfs_n=[1.0, 2, 3, 4]), labels)
    assert table["purchased"].tolist() == [-1, 0, 1, 0, 1]
    assert table["dfs_n"].tolist() == [3, 4, 4, 2, 1]
    assert query_groups(table).tolist() == [1, 2, 1, 1]
    # every feature column of the model input is float32, whatever its source (DFS too)
    assert set(table[numbers.union(["dfs_n"])].dtypes.astype(str)) == {"float32"}


def test_selection_on_a_row_sample_keeps_the_same_decisions(caplog):
    rng = np.random.default_rng(1)
    n = 5000
    base = rng.normal(size=n)
    table = pd.DataFrame(
        {
            "week": 3,
            "customer_id": "c",
            "article_id": [str(i) for i in range(n)],
            "purchased": rng.integers(0, 2, n),
            "useful": base,
            "twin": 2 * base,
            "constant": 1.0,
        }
    )
    params = {"first_training_week": 3, "max_null_share": 0.99, "max_correlation": 0.98}
    with caplog.at_level("INFO"):
        sampled = select_features(table, {**params, "max_rows": 500, "seed": 0})
    assert "on a sample of 500 training rows" in caplog.text
    assert sampled == select_features(table, params)
    assert sampled["dropped"]["correlated"] == ["twin"]


def test_ids_come_back_as_the_same_strings_across_blocks():
    """Ids travel dictionary-encoded through Arrow (each block its own dictionary) and come
    back as plain strings: the 64-hex customer and 10-digit article ids of submission.csv."""
    customers = [customer_id(i) for i in (5, 5, 9, 9, 9, 2, 7)]
    articles = [article_id(i) for i in (1, 3, 1, 2, 3, 3, 1)]
    candidates = pd.DataFrame(
        {"week": 1, "customer_id": customers, "article_id": articles, "n_sources": 1}
    ).assign(has_history=True)
    customer = pd.DataFrame({"week": 1, "customer_id": sorted(set(customers)), "customer_x": 1})
    article = pd.DataFrame(
        {"week": 1, "article_id": sorted(set(articles)), "article_colour_group_code": 9}
    )
    pairs = pd.DataFrame(columns=[*KEYS, "pair_times_bought", "pair_product_times_bought"])
    shares = pd.DataFrame(columns=["week", "customer_id", "attribute", "value", "share"])
    params = {"affinity_attributes": ["colour_group_code"], "join_chunk_rows": 3}
    features = join_sql_features(candidates, customer, article, pairs, shares, params)
    pd.testing.assert_frame_equal(features[KEYS], candidates[KEYS])
    assert features["customer_id"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert features["article_id"].str.fullmatch(r"\d{10}").all()
    assert features["customer_x"].dtype == "float32" and features["customer_x"].eq(1).all()


def test_relative_price_gap_is_the_article_level_minus_the_customer_level():
    """Null when the customer has no history or the article no sale before the cutoff."""
    candidates = pd.DataFrame(
        {"week": 1, "customer_id": ["a", "a", "b", "c"], "article_id": ["x", "y", "x", "x"]}
    ).assign(n_sources=1, has_history=True)
    customer = pd.DataFrame(
        {
            "week": 1,
            "customer_id": ["a", "b", "c"],
            "customer_mean_log_relative_price": [0.5, -0.25, None],
        }
    )
    article = pd.DataFrame(
        {"week": 1, "article_id": ["x", "y"], "article_log_relative_price": [-0.5, None]}
    )
    pairs = pd.DataFrame(columns=[*KEYS, "pair_times_bought", "pair_product_times_bought"])
    shares = pd.DataFrame(columns=["week", "customer_id", "attribute", "value", "share"])
    features = join_sql_features(
        candidates, customer, article, pairs, shares, {"affinity_attributes": []}
    )
    np.testing.assert_allclose(
        features["relative_price_gap"], [-1.0, np.nan, -0.25, np.nan], equal_nan=True
    )
    np.testing.assert_allclose(
        features["relative_price_distance"], [1.0, np.nan, 0.25, np.nan], equal_nan=True
    )

"""The generator: exact H&M columns, consistent codes, determinism, planted structure, oracle."""

import re

import numpy as np
import pandas as pd
import pytest

from recommender_ranking.pipelines.data_generation.catalogue import (
    ARTICLE_COLUMNS,
    CUSTOMER_COLUMNS,
    n_cells,
)
from recommender_ranking.pipelines.data_generation.nodes import (
    generate_hm_data,
    generation_sizes,
)


def _materialised(outputs):
    """The node's outputs with the weekly transaction chunks concatenated."""
    articles, customers, chunks, images, oracle = outputs
    return articles, customers, pd.concat(list(chunks), ignore_index=True), images, oracle


@pytest.fixture(scope="module")
def generated(tiny_generation_params):
    return _materialised(generate_hm_data(tiny_generation_params))


def _average_precision(recommended: list[str], bought: set[str], k: int = 12) -> float:
    hits, total = 0, 0.0
    for position, article in enumerate(recommended[:k]):
        if article in bought:
            hits += 1
            total += hits / (position + 1)
    return total / min(len(bought), k)


def _split(transactions: pd.DataFrame):
    days = pd.to_datetime(transactions["t_dat"])
    test = days > days.max() - pd.Timedelta(days=7)
    frame = transactions.assign(t_dat=days, customer_id=transactions["customer_id"].astype(str))
    frame["article_id"] = frame["article_id"].astype(str)
    return frame[~test], frame[test]


def test_files_have_the_exact_kaggle_columns_and_id_formats(generated):
    articles, customers, transactions, images, _ = generated
    assert list(articles.columns) == ARTICLE_COLUMNS
    assert list(customers.columns) == CUSTOMER_COLUMNS
    assert list(transactions.columns) == [
        "t_dat", "customer_id", "article_id", "price", "sales_channel_id"
    ]  # fmt: skip
    assert articles["article_id"].str.fullmatch(r"0\d{9}").all()
    assert articles["article_id"].is_unique
    assert (articles["article_id"].str[1:7].astype(int) == articles["product_code"]).all()
    assert customers["customer_id"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert customers["customer_id"].is_unique
    assert set(transactions["sales_channel_id"]) == {1, 2}
    assert transactions["price"].between(0.0, 0.6).all()
    assert pd.to_datetime(transactions["t_dat"]).max() == pd.Timestamp("2020-09-22")
    assert pd.to_datetime(transactions["t_dat"]).is_monotonic_increasing
    # Nulls where the real files have them.
    assert articles["detail_desc"].isna().any() and articles["detail_desc"].notna().mean() > 0.9
    assert customers["age"].isna().any() and customers["FN"].isna().any()
    assert set(transactions["customer_id"].astype(str)) <= set(customers["customer_id"])
    assert all(re.fullmatch(r"0\d\d/0\d{9}", key) for key in images)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("product_type_no", "product_type_name"),
        ("colour_group_code", "colour_group_name"),
        ("graphical_appearance_no", "graphical_appearance_name"),
        ("index_code", "index_name"),
        ("garment_group_no", "garment_group_name"),
        ("department_no", "department_name"),
        ("section_no", "section_name"),
    ],
)
def test_every_code_pairs_with_one_name(generated, code, name):
    articles = generated[0]
    assert articles.groupby(code)[name].nunique().max() == 1
    assert articles.groupby(name)[code].nunique().max() == 1


def test_colour_variants_share_the_product_and_descriptions_name_the_colour(generated):
    articles = generated[0]
    per_product = articles.groupby("product_code")
    assert per_product["product_type_no"].nunique().max() == 1
    assert (per_product.size() > 1).any()
    described = articles.dropna(subset=["detail_desc"])
    mentions = [
        colour.lower() in text
        for colour, text in zip(
            described["colour_group_name"], described["detail_desc"], strict=True
        )
    ]
    assert all(mentions)


def test_images_follow_the_colour_and_some_articles_have_none(generated):
    articles, images = generated[0], generated[3]
    assert 0.85 < len(images) / len(articles) < 1.0
    brightness = {}
    for key, load in images.items():
        colour = articles.set_index("article_id").loc[key.split("/")[1], "colour_group_name"]
        if colour in ("Black", "White"):
            picture = np.asarray(load())
            assert picture.shape == (32, 32, 3)
            brightness.setdefault(colour, []).append(picture.mean())
    assert np.mean(brightness["Black"]) + 40 < np.mean(brightness["White"])


def test_same_seed_same_data_other_seed_other_data(tiny_generation_params, generated):
    again = _materialised(generate_hm_data(tiny_generation_params))
    for first, second in zip(generated, again, strict=True):
        if isinstance(first, pd.DataFrame):
            pd.testing.assert_frame_equal(first, second)
    other = _materialised(generate_hm_data({**tiny_generation_params, "seed": 8}))
    assert not other[2]["customer_id"].astype(str).equals(generated[2]["customer_id"].astype(str))


def test_oracle_ranks_twelve_articles_per_customer_with_calibrated_probabilities(generated):
    _, customers, transactions, _, oracle = generated
    assert len(oracle) == 12 * len(customers)
    ranks = oracle.groupby("customer_id")["rank"].apply(list)
    assert all(rank == list(range(1, 13)) for rank in ranks)
    assert oracle.groupby("customer_id")["probability"].is_monotonic_decreasing.all()
    assert oracle["probability"].between(0, 1).all()
    # The probabilities are the true ones: the top article is bought as often as they say.
    _, test = _split(transactions)
    bought = set(zip(test["customer_id"], test["article_id"], strict=True))
    top = oracle[oracle["rank"] == 1]
    hit = [(c, a) in bought for c, a in zip(top["customer_id"], top["article_id"], strict=True)]
    standard_error = np.sqrt(top["probability"].mean() * (1 - top["probability"].mean()) / len(top))
    assert abs(np.mean(hit) - top["probability"].mean()) < 4 * standard_error


def test_planted_structure_beats_popularity_and_simple_candidates_recall_most(generated):
    articles, _, transactions, _, oracle = generated
    history, test = _split(transactions)
    truth = test.groupby("customer_id")["article_id"].apply(set)
    last_week = history[history["t_dat"] > history["t_dat"].max() - pd.Timedelta(days=7)]
    popular = last_week["article_id"].value_counts().index[:12].tolist()
    baseline = np.mean([_average_precision(popular, bought) for bought in truth])
    ranked = oracle.groupby("customer_id")["article_id"].apply(list)
    oracle_map = np.mean([_average_precision(ranked[c], bought) for c, bought in truth.items()])
    assert oracle_map >= 2 * baseline
    # Repurchase + colour variants of recent purchases + the 100 most popular of last week.
    recent = history[history["t_dat"] > history["t_dat"].max() - pd.Timedelta(days=56)]
    variants = articles.groupby("product_code")["article_id"].apply(set)
    code = articles.set_index("article_id")["product_code"]
    popular_100 = set(last_week["article_id"].value_counts().index[:100])
    past = recent.groupby("customer_id")["article_id"].apply(set)
    found = total = 0
    for customer, bought in truth.items():
        candidates = set(popular_100)
        for article in past.get(customer, set()):
            candidates |= variants[code[article]]
        found += len(bought & candidates)
        total += len(bought)
    assert found / total >= 0.55


def test_scale_is_a_fraction_of_the_real_competition(tiny_generation_params):
    sizes = generation_sizes({**tiny_generation_params, "scale": 0.01})
    assert sizes["n_customers"] == 13720
    assert sizes["n_articles"] == 1055
    assert sizes["n_weeks"] == 105
    expected = 31788324 * 0.01
    assert sizes["items_per_customer_week"] * 13720 * 105 == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_weeks": 2}, "n_weeks must be at least 3"),
        ({"n_articles": 100}, f"at least {n_cells()} articles"),
        ({"scale": 2}, r"scale must be in \(0, 1\]"),
        ({"n_customers": 0}, "n_customers must be a positive integer"),
        ({"late_variant_share": 1.5}, r"late_variant_share must be in \[0, 1\]"),
    ],
)
def test_bad_parameters_name_the_parameter(tiny_generation_params, change, message):
    with pytest.raises(ValueError, match=message):
        generate_hm_data({**tiny_generation_params, **change})


def test_buyers_of_a_week_buy_a_basket_on_one_day(generated, tiny_generation_params):
    """Few customers shop in a week, and those who do buy ``items_per_basket`` items on average,
    all on one day (the co-purchase structure of the real data)."""
    _, customers, transactions, _, _ = generated
    days = pd.to_datetime(transactions["t_dat"])
    week = (pd.Timestamp(tiny_generation_params["end_date"]) - days).dt.days // 7
    baskets = transactions.assign(week=week, day=days).groupby(["week", "customer_id"])
    assert (baskets["day"].min() == baskets["day"].max()).all()
    items = baskets.size()
    assert items.mean() == pytest.approx(tiny_generation_params["items_per_basket"], rel=0.1)
    assert (items > 1).mean() > 0.7
    buyers_per_week = items.groupby("week").size().mean()
    assert buyers_per_week < 0.6 * len(customers)

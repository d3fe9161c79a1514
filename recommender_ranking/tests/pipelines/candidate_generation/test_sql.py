"""The SQL files on DuckDB against an independent pandas computation, on a small world."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.ranking import hm_data
from tests.ranking.hm_data import QUERY_PARAMETERS, make_synthetic, run_sql, write_tables

P = QUERY_PARAMETERS


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    data = make_synthetic(n_customers=40, n_articles=24, n_days=42, seed=3)
    data["tables"] = write_tables(
        Path(tmp_path_factory.mktemp("hm")),
        data["transactions"],
        data["customers"],
        data["articles"],
    )
    return data


def cutoffs(transactions: pd.DataFrame) -> dict[int, pd.Timestamp]:
    last = transactions["t_dat"].max()
    return {w: last + pd.Timedelta(days=1 - 7 * w) for w in range(P["n_train_weeks"] + 3)}


def pandas_customer_weeks(world: dict) -> pd.DataFrame:
    transactions, frames = world["transactions"], []
    for week, cutoff in cutoffs(transactions).items():
        if week == 0:
            ids = world["customers"]["customer_id"]
        else:
            in_week = transactions["t_dat"].between(cutoff, cutoff + pd.Timedelta(days=6))
            ids = transactions.loc[in_week, "customer_id"].drop_duplicates()
        before = set(transactions.loc[transactions["t_dat"] < cutoff, "customer_id"])
        frames.append(
            pd.DataFrame({"week": week, "customer_id": ids.to_numpy()}).assign(
                has_history=lambda f, b=before: f["customer_id"].isin(b)
            )
        )
    return pd.concat(frames, ignore_index=True)


def sort(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def test_customer_weeks_follow_the_week_calendar(world):
    result = run_sql("customer_weeks", world["tables"])
    expected = pandas_customer_weeks(world)
    keys = ["week", "customer_id"]
    pd.testing.assert_frame_equal(
        sort(result[[*keys, "has_history"]], keys), sort(expected, keys), check_dtype=False
    )
    cutoff_by_week = result.groupby("week")["cutoff"].first()
    assert cutoff_by_week.to_dict() == cutoffs(world["transactions"])


def test_repurchase_candidates_match_pandas(world):
    transactions = world["transactions"]
    frames = []
    for row in pandas_customer_weeks(world).itertuples():
        cutoff = cutoffs(transactions)[row.week]
        window = transactions[
            (transactions["customer_id"] == row.customer_id)
            & (transactions["t_dat"] < cutoff)
            & (transactions["t_dat"] >= cutoff - pd.Timedelta(days=P["repurchase_window_days"]))
        ]
        if window.empty:
            continue
        bought = window.groupby("article_id").agg(times=("t_dat", "size"), last=("t_dat", "max"))
        bought = bought.reset_index().sort_values(
            ["last", "times", "article_id"], ascending=[False, False, True]
        )
        bought = bought.head(P["repurchase_top_n"])
        frames.append(
            pd.DataFrame(
                {
                    "week": row.week,
                    "customer_id": row.customer_id,
                    "article_id": bought["article_id"].to_numpy(),
                    "score": bought["times"].to_numpy(dtype="float64"),
                    "source_rank": np.arange(1, len(bought) + 1),
                }
            )
        )
    expected = pd.concat(frames, ignore_index=True)
    result = run_sql("candidates_repurchase", world["tables"])
    keys = ["week", "customer_id", "source_rank"]
    pd.testing.assert_frame_equal(sort(result, keys), sort(expected, keys), check_dtype=False)


def test_popularity_candidates_match_pandas(world):
    transactions = world["transactions"]
    result = run_sql("candidates_popularity", world["tables"])
    for week, cutoff in cutoffs(transactions).items():
        score = pd.Series(dtype="float64")
        for days in P["popularity_windows_days"]:
            window = transactions[
                (transactions["t_dat"] < cutoff)
                & (transactions["t_dat"] >= cutoff - pd.Timedelta(days=days))
            ]
            share = window["article_id"].value_counts(normalize=True)
            score = score.add(share, fill_value=0.0)
        ranked = score.rename("score").rename_axis("article_id").reset_index()
        ranked = ranked.sort_values(["score", "article_id"], ascending=[False, True])
        expected = ranked.head(P["popularity_top_n"])["article_id"].tolist()
        week_rows = result[result["week"] == week]
        one_customer = week_rows[week_rows["customer_id"] == week_rows["customer_id"].iloc[0]]
        assert one_customer.sort_values("source_rank")["article_id"].tolist() == expected
        n_customers = (pandas_customer_weeks(world)["week"] == week).sum()
        assert week_rows["customer_id"].nunique() == n_customers


def test_customer_and_pair_features_match_pandas(world):
    transactions = world["transactions"]
    customer_features = run_sql("customer_features", world["tables"]).set_index(
        ["week", "customer_id"]
    )
    pair_features = run_sql("customer_article_features", world["tables"]).set_index(
        ["week", "customer_id", "article_id"]
    )
    for week, cutoff in cutoffs(transactions).items():
        history = transactions[transactions["t_dat"] < cutoff]
        days_ago = (cutoff - history["t_dat"]).dt.days
        by_customer = history.assign(days_ago=days_ago).groupby("customer_id")
        expected = pd.DataFrame(
            {
                "customer_days_since_last_purchase": by_customer["days_ago"].min(),
                "customer_purchases": by_customer.size(),
                "customer_purchases_4w": by_customer["days_ago"].agg(lambda d: (d <= 28).sum()),
                "customer_mean_price": by_customer["price"].mean().round(6),
                "customer_online_share": by_customer["sales_channel_id"].agg(
                    lambda c: (c == 2).mean()
                ),
            }
        )
        got = customer_features.loc[week]
        got = got[got["customer_purchases"] > 0][expected.columns]
        pd.testing.assert_frame_equal(
            got.sort_index(), expected.loc[got.index].sort_index(), check_dtype=False
        )
        assert set(got.index) == set(expected.index) & set(got.index)
        pairs = history.assign(days_ago=days_ago).groupby(["customer_id", "article_id"])
        expected_pairs = pd.DataFrame(
            {
                "pair_times_bought": pairs.size(),
                "pair_weeks_since_bought": pairs["days_ago"].min() // 7,
            }
        )
        got_pairs = pair_features.loc[week].dropna(subset="pair_times_bought")
        got_pairs = got_pairs[["pair_times_bought", "pair_weeks_since_bought"]]
        ranked = set(pandas_customer_weeks(world).query("week == @week")["customer_id"])
        expected_pairs = expected_pairs[
            expected_pairs.index.get_level_values("customer_id").isin(ranked)
        ]
        pd.testing.assert_frame_equal(
            got_pairs.sort_index(), expected_pairs.sort_index(), check_dtype=False
        )


def test_as_of_date_moves_every_week(world):
    as_of = (world["transactions"]["t_dat"].max() - pd.Timedelta(days=7)).strftime("%Y-%m-%d")
    shifted = run_sql("customer_weeks", world["tables"], as_of_date=as_of)
    default = run_sql("customer_weeks", world["tables"])
    assert (
        shifted.groupby("week")["cutoff"].first().loc[1]
        == (default.groupby("week")["cutoff"].first().loc[2])
    )


def pandas_copurchase(world: dict, partners_per_seed: int) -> pd.DataFrame:
    transactions, frames = world["transactions"], []
    ranked = pandas_customer_weeks(world)
    for week, cutoff in cutoffs(transactions).items():
        days = (cutoff - transactions["t_dat"]).dt.days
        baskets = transactions.loc[
            (days >= 1) & (days <= P["copurchase_window_days"]),
            ["customer_id", "t_dat", "article_id"],
        ].drop_duplicates()
        pairs = baskets.merge(baskets, on=["customer_id", "t_dat"], suffixes=("_seed", ""))
        pairs = pairs[pairs["article_id_seed"] != pairs["article_id"]]
        counts = pairs.groupby(["article_id_seed", "article_id"]).size().rename("n").reset_index()
        counts = counts.sort_values(["article_id_seed", "n", "article_id"], ascending=[1, 0, 1])
        top = counts[counts.groupby("article_id_seed").cumcount() < partners_per_seed]
        seeds = transactions.loc[
            (days >= 1)
            & (days <= P["copurchase_seed_days"])
            & transactions["customer_id"].isin(ranked.loc[ranked["week"] == week, "customer_id"]),
            ["customer_id", "article_id"],
        ].drop_duplicates()
        scored = seeds.rename(columns={"article_id": "article_id_seed"}).merge(top)
        scored = scored.groupby(["customer_id", "article_id"], as_index=False)["n"].sum()
        scored = scored.sort_values(["customer_id", "n", "article_id"], ascending=[1, 0, 1])
        scored["source_rank"] = scored.groupby("customer_id").cumcount() + 1
        scored = scored[scored["source_rank"] <= P["copurchase_top_n"]]
        frames.append(scored.rename(columns={"n": "score"}).assign(week=week))
    return pd.concat(frames, ignore_index=True)


def test_copurchase_candidates_match_pandas_with_top_partners_per_seed(world):
    keys = ["week", "customer_id", "source_rank"]
    columns = ["week", "customer_id", "article_id", "score", "source_rank"]
    results = {}
    for partners_per_seed in [1, 99]:
        expected = pandas_copurchase(world, partners_per_seed)
        result = run_sql(
            "candidates_copurchase", world["tables"], copurchase_partners_per_seed=partners_per_seed
        )
        pd.testing.assert_frame_equal(
            sort(result[columns], keys), sort(expected[columns], keys), check_dtype=False
        )
        results[partners_per_seed] = sort(result[columns], keys)
    assert len(results[99]) > 50  # the world has baskets with several articles
    assert not results[1].equals(results[99])  # and the partner cap binds


def test_test_week_buyers_are_all_kept_by_default_and_a_hashed_share_when_set(tmp_path):
    """test_sample_per_million (1000000: every buyer) samples the test week's buyers by the
    same seeded hash as the training weeks; the other weeks do not change."""
    data = make_synthetic(n_customers=600, n_articles=24, n_days=21, seed=5)
    tables = write_tables(tmp_path, data["transactions"], data["customers"], data["articles"])
    every = run_sql("customer_weeks", tables)
    buyers = set(every.loc[every["week"] == 1, "customer_id"])
    week1 = {}
    for share in (0, 300_000, 700_000, 1_000_000):
        result = run_sql("customer_weeks", tables, test_sample_per_million=share)
        week1[share] = set(result.loc[result["week"] == 1, "customer_id"])
        others = ["week", "customer_id"]
        pd.testing.assert_frame_equal(
            sort(result.loc[result["week"] != 1, others], others),
            sort(every.loc[every["week"] != 1, others], others),
        )
    assert week1[1_000_000] == buyers and len(buyers) > 200
    assert week1[0] == set() and week1[300_000] < week1[700_000] < buyers  # nested samples
    assert abs(len(week1[300_000]) / len(buyers) - 0.3) < 0.1
    assert abs(len(week1[700_000]) / len(buyers) - 0.7) < 0.1
    # the same hash as the training weeks: a customer sampled in one is sampled in the other
    trained = run_sql(
        "customer_weeks", tables, train_sample_per_million=300_000, test_sample_per_million=0
    )
    sampled = set(trained.loc[trained["week"] >= 2, "customer_id"])
    assert sampled & buyers and (sampled & buyers) <= week1[300_000]


def test_labelled_weeks_keep_at_most_their_cap_of_buyers_lowest_hashes_first(tmp_path):
    """max_test_buyers and max_train_buyers_per_week keep that many of each labelled week's
    (hash-sampled) buyers, the lowest hashes first: a subset of the uncapped sample, and
    buyer_share says which share of the week's buyers is ranked."""
    data = make_synthetic(n_customers=600, n_articles=24, n_days=35, seed=5)
    tables = write_tables(tmp_path, data["transactions"], data["customers"], data["articles"])
    every = run_sql("customer_weeks", tables, train_sample_per_million=600_000)
    capped = run_sql(
        "customer_weeks",
        tables,
        train_sample_per_million=600_000,
        max_test_buyers=50,
        max_train_buyers_per_week=30,
    )
    buyers = data["transactions"].assign(week=0)
    for week, cutoff in cutoffs(data["transactions"]).items():
        in_week = buyers["t_dat"].between(cutoff, cutoff + pd.Timedelta(days=6))
        buyers.loc[in_week, "week"] = week
    n_buyers = buyers[buyers["week"] >= 1].groupby("week")["customer_id"].nunique()
    for week, n in n_buyers.items():
        kept = capped[capped["week"] == week]
        uncapped = every[every["week"] == week]
        cap = 50 if week == 1 else 30
        assert len(uncapped) > cap  # the cap binds in every labelled week
        assert len(kept) == cap and set(kept["customer_id"]) <= set(uncapped["customer_id"])
        assert kept["buyer_share"].tolist() == pytest.approx([cap / n] * cap)
        share = 1.0 if week == 1 else len(uncapped) / n
        assert uncapped["buyer_share"].tolist() == pytest.approx([share] * len(uncapped))
    pd.testing.assert_frame_equal(  # week 0 is every customer, uncapped
        sort(capped.loc[capped["week"] == 0, ["customer_id", "buyer_share"]], ["customer_id"]),
        sort(every.loc[every["week"] == 0, ["customer_id", "buyer_share"]], ["customer_id"]),
    )
    assert len(capped[capped["week"] == 0]) == 600


def pandas_taste(world: dict, top_n: int) -> pd.DataFrame:
    transactions, frames = world["transactions"], []
    cell = ["product_group_name", "colour_group_code"]
    bought = transactions.merge(world["articles"][["article_id", *cell]], on="article_id")
    ranked = pandas_customer_weeks(world)
    for week, cutoff in cutoffs(transactions).items():
        days = (cutoff - bought["t_dat"]).dt.days
        history = bought[
            (days >= 1)
            & (days <= P["taste_window_days"])
            & bought["customer_id"].isin(ranked.loc[ranked["week"] == week, "customer_id"])
        ]
        shares = history.groupby(["customer_id", *cell]).size().rename("n").reset_index()
        shares["share"] = shares["n"] / shares.groupby("customer_id")["n"].transform("sum")
        sales = bought[(days >= 1) & (days <= 7)].groupby(["article_id", *cell]).size()
        scored = shares.merge(sales.rename("sales").reset_index(), on=cell)
        scored["score"] = scored["share"] * scored["sales"]
        scored = scored.sort_values(["customer_id", "score", "article_id"], ascending=[1, 0, 1])
        scored["source_rank"] = scored.groupby("customer_id").cumcount() + 1
        frames.append(scored[scored["source_rank"] <= top_n].assign(week=week))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("top_n", [1, 3, 99])
def test_taste_candidates_match_pandas(world, top_n):
    """top_n 1 and 3 are below the number of articles sold in a cell: the query keeps each
    cell's best sellers before ranking a customer's cells, which must not change the result."""
    keys = ["week", "customer_id", "source_rank"]
    columns = ["week", "customer_id", "article_id", "score", "source_rank"]
    expected = pandas_taste(world, top_n)
    result = run_sql("candidates_taste", world["tables"], taste_top_n=top_n)
    pd.testing.assert_frame_equal(
        sort(result[columns], keys), sort(expected[columns], keys), check_dtype=False
    )
    assert len(expected) > 40


def test_a_variant_is_proposed_only_from_its_first_sale_before_the_cutoff(tmp_path):
    """Articles 6 and 7 share a product; 7 first sells 9 days before the end. In the validation
    week (cutoff 13 days before the end) a buyer of 6 must not get 7, nor a pair feature row for
    it; in the test week (cutoff 6 days before) he gets it. Same for 2 and 3 (3 first sells in
    the test week)."""
    tables = write_tables(tmp_path)
    customer_2 = hm_data.customer_id(2)
    article_6, article_7, article_3 = (hm_data.article_id(i) for i in (6, 7, 3))
    for query in ("candidates_same_product", "customer_article_features"):
        pairs = set(
            run_sql(query, tables)[["week", "customer_id", "article_id"]].itertuples(index=False)
        )
        assert (2, customer_2, article_6) in pairs, query
        assert (2, customer_2, article_7) not in pairs, query  # not on sale yet
        assert (1, customer_2, article_7) in pairs, query
        assert not {pair for pair in pairs if pair[2] == article_3 and pair[0] >= 2}, query


def pandas_relative_prices(history: pd.DataFrame, articles: pd.DataFrame) -> pd.Series:
    """Log mean price of each article sold in ``history`` minus the mean of that over the
    sold articles of its product type."""
    mean_price = history.groupby("article_id")["price"].mean().round(6)
    types = articles.set_index("article_id")["product_type_no"].loc[mean_price.index]
    log_price = np.log(mean_price)
    return (log_price - log_price.groupby(types.to_numpy()).transform("mean")).round(6)


def test_relative_price_features_match_pandas(world):
    transactions, articles = world["transactions"], world["articles"]
    article_features = run_sql("article_features", world["tables"])
    customer_features = run_sql("customer_features", world["tables"])
    for week, cutoff in cutoffs(transactions).items():
        history = transactions[transactions["t_dat"] < cutoff]
        relative = pandas_relative_prices(history, articles)
        got = article_features[article_features["week"] == week].set_index("article_id")
        got = got["article_log_relative_price"]
        pd.testing.assert_series_equal(
            got.dropna().sort_index(), relative.sort_index(), check_names=False, atol=2e-6
        )
        customer_mean = (
            history.assign(relative=history["article_id"].map(relative))
            .groupby("customer_id")["relative"]
            .mean()
        )
        got = customer_features[customer_features["week"] == week].set_index("customer_id")
        got = got["customer_mean_log_relative_price"]
        expected = customer_mean.reindex(got.index)  # NaN for customers without history
        pd.testing.assert_series_equal(got, expected, check_names=False, atol=2e-6)
        assert got.notna().sum() > 5


def test_relative_prices_by_hand_count_only_purchases_before_the_cutoff(tmp_path):
    """Type 250 holds articles 0 and 3, type 251 articles 1 and 4. Before the test week's
    cutoff (6 days before the end) 0 sold at 0.01 and 3 at 0.04 (geometric mean 0.02: -ln 2
    and +ln 2), 1 alone at 0.03 (0), 4 not at all (null). On the cutoff day customer 0 buys 3
    at 0.16 and 4: they count in week 0 only (3's mean 0.10, type mean sqrt(0.001))."""

    def sold(customer: int, article: int, days_before_end: int, price: float) -> dict:
        return {**hm_data.purchase(customer, article, days_before_end), "price": price}

    transactions = pd.DataFrame(
        [
            sold(0, 0, 20, 0.01),
            sold(1, 3, 20, 0.04),
            sold(1, 1, 15, 0.03),
            sold(0, 3, 6, 0.16),  # on the test week's cutoff
            sold(0, 4, 6, 0.03),
            sold(1, 1, 3, 0.03),
            sold(3, 0, 0, 0.01),  # the last day; customer 3: no history before the test week
        ]
    )
    tables = write_tables(tmp_path, transactions)
    assert cutoffs(transactions)[1] == transactions["t_dat"].iloc[3]
    articles = run_sql("article_features", tables).set_index(["week", "article_id"])
    articles = articles["article_log_relative_price"]
    customers = run_sql("customer_features", tables).set_index(["week", "customer_id"])
    customers = customers["customer_mean_log_relative_price"]
    a, c, ln2, half_ln10 = hm_data.article_id, hm_data.customer_id, np.log(2), np.log(10) / 2
    expected_articles = {
        (1, a(0)): -ln2,
        (1, a(3)): ln2,
        (1, a(1)): 0.0,
        (1, a(4)): np.nan,
        (1, a(2)): np.nan,
        (0, a(0)): -half_ln10,
        (0, a(3)): half_ln10,
        (0, a(1)): 0.0,
        (0, a(4)): 0.0,
    }
    expected_customers = {
        (1, c(0)): -ln2,
        (1, c(1)): ln2 / 2,
        (1, c(3)): np.nan,
        (0, c(0)): 0.0,  # 0, 3 and 4
        (0, c(1)): half_ln10 / 3,  # 3, 1 and 1
        (0, c(3)): -half_ln10,
        (0, c(2)): np.nan,  # never bought
    }
    for got, expected in ((articles, expected_articles), (customers, expected_customers)):
        keys = list(expected)
        np.testing.assert_allclose(
            got.loc[keys].to_numpy(dtype=float), list(expected.values()), atol=2e-6
        )

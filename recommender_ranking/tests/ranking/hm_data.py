"""Tiny H&M-schema frames for the model-side tests, and a runner for the SQL files."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from recommender_ranking.datasets.duckdb_query_dataset import DuckDBQueryDataset

SQL_DIR = Path(__file__).resolve().parents[2] / "src" / "recommender_ranking" / "sql"
QUERY_PARAMETERS = {
    "as_of_date": "",
    "n_train_weeks": 2,
    "sample_salt": "42",
    "test_sample_per_million": 1_000_000,
    "train_sample_per_million": 1_000_000,
    "max_test_buyers": 1_000_000,
    "max_train_buyers_per_week": 1_000_000,
    "popularity_windows_days": [7, 28],
    "popularity_top_n": 6,
    "age_band_years": 10,
    "segment_window_days": 14,
    "segment_top_n": 4,
    "repurchase_window_days": 56,
    "repurchase_top_n": 6,
    "same_product_window_days": 28,
    "same_product_top_n": 4,
    "copurchase_window_days": 56,
    "copurchase_seed_days": 28,
    "copurchase_top_n": 4,
    "copurchase_partners_per_seed": 3,
    "taste_window_days": 28,
    "taste_top_n": 4,
    "affinity_window_days": 56,
}
LAST_DAY = pd.Timestamp("2020-09-22")


def article_id(index: int) -> str:
    return f"{108775000 + index:010d}"


def customer_id(index: int) -> str:
    return f"{index:064x}"


def make_articles(n_articles: int = 12) -> pd.DataFrame:
    """Articles in pairs sharing a product_code, with the Kaggle columns."""
    index = np.arange(n_articles)
    return pd.DataFrame(
        {
            "article_id": [article_id(i) for i in index],
            "product_code": 108775 + index // 2,
            "prod_name": [f"product {i // 2}" for i in index],
            "product_type_no": 250 + index % 3,
            "product_type_name": [f"type {i % 3}" for i in index],
            "product_group_name": "Garment Upper body",
            "graphical_appearance_no": 1010016,
            "graphical_appearance_name": "Solid",
            "colour_group_code": 9 + index % 4,
            "colour_group_name": [f"colour {i % 4}" for i in index],
            "perceived_colour_value_id": 4,
            "perceived_colour_value_name": "Dark",
            "perceived_colour_master_id": 5 + index % 2,
            "perceived_colour_master_name": "Black",
            "department_no": 1676 + index % 2,
            "department_name": "Jersey Basic",
            "index_code": "A",
            "index_name": "Ladieswear",
            "index_group_no": 1 + index % 2,
            "index_group_name": "Ladieswear",
            "section_no": 16,
            "section_name": "Womens Everyday Basics",
            "garment_group_no": 1002 + index % 3,
            "garment_group_name": "Jersey Basic",
            "detail_desc": [None if i % 5 == 0 else f"a soft top number {i}" for i in index],
        }
    )


def make_customers(n_customers: int = 6) -> pd.DataFrame:
    index = np.arange(n_customers)
    return pd.DataFrame(
        {
            "customer_id": [customer_id(i) for i in index],
            "FN": [1.0 if i % 2 else np.nan for i in index],
            "Active": [1.0 if i % 2 else np.nan for i in index],
            "club_member_status": ["ACTIVE" if i % 3 else None for i in index],
            "fashion_news_frequency": ["Regularly" if i % 2 else "NONE" for i in index],
            "age": [np.nan if i == 0 else 20.0 + 7 * i for i in index],
            "postal_code": [f"{i:064x}" for i in index],
        }
    )


def purchase(customer: int, article: int, days_before_end: int, channel: int = 2) -> dict:
    """One transaction ``days_before_end`` days before the last day of the data."""
    return {
        "t_dat": LAST_DAY - pd.Timedelta(days=days_before_end),
        "customer_id": customer_id(customer),
        "article_id": article_id(article),
        "price": round(0.01 + 0.001 * article, 6),
        "sales_channel_id": channel,
    }


def make_transactions() -> pd.DataFrame:
    """Weeks relative to the last day: test 0..6 days before, validation 7..13, ..."""
    rows = [
        # customer 0: bought 0 and 2 long ago, 1 recently; buys 1 again in the test week
        purchase(0, 0, 40),
        purchase(0, 2, 40),
        purchase(0, 1, 10, channel=1),
        purchase(0, 1, 3),
        # customer 1: regular buyer of 4 and 5 (same day baskets), then buys 3 in test week
        purchase(1, 4, 30),
        purchase(1, 5, 30),
        purchase(1, 4, 16),
        purchase(1, 3, 2),
        # customer 2: co-purchases 4 with 6, buys in validation and test weeks
        purchase(2, 4, 20),
        purchase(2, 6, 20),
        purchase(2, 7, 9),
        purchase(2, 6, 1),
        # customer 3: no history before the test week (cold start)
        purchase(3, 1, 0),
        # customer 4: busy in training weeks
        purchase(4, 8, 25),
        purchase(4, 9, 22),
        purchase(4, 1, 18),
        purchase(4, 10, 12),
        # customer 5 never buys
    ]
    frame = pd.DataFrame(rows)
    frame["t_dat"] = frame["t_dat"].astype("datetime64[ns]")
    return frame


def write_tables(
    folder: Path,
    transactions: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    articles: pd.DataFrame | None = None,
) -> dict[str, str]:
    """Write the three tables as parquet; return the ``tables`` mapping of the SQL dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "transactions_train": make_transactions() if transactions is None else transactions,
        "customers": make_customers() if customers is None else customers,
        "articles": make_articles() if articles is None else articles,
    }
    tables = {}
    for name, frame in frames.items():
        path = folder / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        tables[name] = str(path)
    return tables


def run_sql(name: str, tables: dict[str, str], **overrides) -> pd.DataFrame:
    """Run ``sql/<name>.sql`` on DuckDB over the tables, with the test query parameters.

    The calendar and the ranked customers (every week, week 0 included) are computed first
    and given as the tables ``week_calendar`` and ``customer_weeks``, as the pipeline does.
    """
    parameters = {**QUERY_PARAMETERS, **overrides}
    tables = dict(tables)
    if name != "week_calendar":
        tables["week_calendar"] = _table_of("week_calendar", tables, parameters)
    if name not in {"week_calendar", "customer_weeks"}:
        tables["customer_weeks"] = _table_of("customer_weeks", tables, parameters)
    return DuckDBQueryDataset(
        filepath=str(SQL_DIR / f"{name}.sql"),
        tables=tables,
        query_parameters=parameters,
        categorical_strings=False,  # as conf/local/catalog_sql.yml
    ).load()


def _table_of(name: str, tables: dict[str, str], parameters: dict) -> str:
    """Run one upstream query and write its result next to the tables (one file per
    parameter set)."""
    result = run_sql(name, tables, **parameters)
    key = hashlib.sha1(repr(sorted(parameters.items())).encode()).hexdigest()[:12]
    path = Path(tables["transactions_train"]).parent / f"{name}-{key}.parquet"
    result.to_parquet(path, index=False)
    return str(path)


def make_synthetic(
    n_customers: int = 80, n_articles: int = 40, n_days: int = 63, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """A small world with structure a ranker can learn: each customer has a few favourite
    articles (bought again and again) and a taste for one product type; popular articles
    sell to everyone. Also random image (8-dim) and text (16-dim) embeddings."""
    rng = np.random.default_rng(seed)
    articles = make_articles(n_articles)
    customers = make_customers(n_customers)
    popularity = rng.dirichlet(np.full(n_articles, 0.5))
    rows = []
    for customer in range(n_customers):
        favourites = rng.choice(n_articles, size=3, replace=False)
        taste = articles["product_type_no"].to_numpy() == 250 + customer % 3
        weights = 0.4 * popularity + 0.6 * taste / taste.sum()
        weights[favourites] += 0.5
        weights /= weights.sum()
        n_purchases = rng.poisson(0.25 * n_days / 7 * (1 + customer % 4))
        days = rng.integers(0, n_days, n_purchases)
        chosen = rng.choice(n_articles, size=n_purchases, p=weights)
        rows += [
            purchase(customer, int(article), int(day), channel=1 + int(rng.random() < 0.6))
            for article, day in zip(chosen, days, strict=True)
        ]
    transactions = pd.DataFrame(rows)
    transactions["t_dat"] = transactions["t_dat"].astype("datetime64[ns]")
    ids = articles["article_id"]
    image = pd.DataFrame(
        rng.normal(size=(n_articles - 2, 8)).astype("float32"),
        columns=[f"image_emb_{i:03d}" for i in range(8)],
    )
    image.insert(0, "article_id", ids.iloc[: n_articles - 2].to_numpy())  # 2 without image
    text = pd.DataFrame(
        rng.normal(size=(n_articles, 16)).astype("float32"),
        columns=[f"text_emb_{i:03d}" for i in range(16)],
    )
    text.insert(0, "article_id", ids.to_numpy())
    return {
        "transactions": transactions.sort_values("t_dat", ignore_index=True),
        "customers": customers,
        "articles": articles,
        "article_image_embeddings": image,
        "article_text_embeddings": text,
    }


def project_parameters() -> dict:
    """conf/base + conf/local parameters, resolved by Kedro's own config loader."""
    from kedro.config import OmegaConfigLoader

    conf = Path(__file__).resolve().parents[2] / "conf"
    loader = OmegaConfigLoader(
        str(conf), base_env="base", default_run_env="local", merge_strategy={"parameters": "soft"}
    )
    return loader["parameters"]

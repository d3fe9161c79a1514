"""The built-in local data: H&M-shaped files with planted structure and an exact oracle."""

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .catalogue import (
    ARTICLE_COLUMNS,
    CUSTOMER_COLUMNS,
    article_images,
    build_articles,
    build_customers,
    n_cells,
)
from .oracle import oracle_recommendations
from .simulation import build_market, simulate_week

logger = logging.getLogger(__name__)


def generation_sizes(params: dict[str, Any]) -> dict[str, Any]:
    """Customers, articles, weeks and purchase rate: the small default, or ``scale`` times the
    real competition (1.37 M customers, 105 k articles, 31.8 M transactions over 105 weeks)."""
    scale = params.get("scale")
    if scale is None:
        sizes = {key: params[key] for key in ("n_customers", "n_articles", "n_weeks")}
        sizes["items_per_customer_week"] = params["items_per_customer_week"]
    else:
        if not 0 < float(scale) <= 1:
            raise ValueError(f"data_generation.scale must be in (0, 1] or null; got {scale}")
        real = params["real_size"]
        sizes = {
            "n_customers": max(round(real["n_customers"] * scale), 1),
            "n_articles": max(round(real["n_articles"] * scale), n_cells()),
            "n_weeks": real["n_weeks"],
            "items_per_customer_week": real["n_transactions"]
            / (real["n_customers"] * real["n_weeks"]),
        }
    for key in ("n_customers", "n_articles", "n_weeks"):
        if int(sizes[key]) < 1 or int(sizes[key]) != sizes[key]:
            raise ValueError(f"data_generation.{key} must be a positive integer; got {sizes[key]}")
    if not 0 <= float(params.get("late_variant_share", 0.0)) <= 1:
        raise ValueError(
            "data_generation.late_variant_share must be in [0, 1]; "
            f"got {params['late_variant_share']}"
        )
    if sizes["n_weeks"] < 3:
        raise ValueError(
            f"data_generation.n_weeks must be at least 3 (training, validation and test weeks); "
            f"got {sizes['n_weeks']}"
        )
    return sizes


def generate_hm_data(params: dict[str, Any]):
    """articles.csv, customers.csv, transactions_train.csv, the images and the oracle.

    The last simulated week is the test week of the week convention (globals.yml ``weeks``):
    the oracle ranks each customer's articles by their true purchase probability in it.
    Transactions are returned as weekly DataFrames made on demand (a generator): the simulated
    purchases are held as small integer arrays (18 bytes a row: 0.6 GB at full size) and the
    catalog's ChunkedCSVDataset writes one week at a time.
    """
    sizes = generation_sizes(params)
    n_weeks = int(sizes["n_weeks"])
    rng = np.random.default_rng(params["seed"])
    end_date = pd.Timestamp(params["end_date"])
    start_date = end_date - pd.Timedelta(days=7 * n_weeks - 1)
    articles = build_articles(
        rng,
        int(sizes["n_articles"]),
        n_weeks,
        late_variant_share=float(params.get("late_variant_share", 0.0)),
        max_variant_delay_weeks=int(params.get("max_variant_delay_weeks", 8)),
    )
    customers = build_customers(rng, int(sizes["n_customers"]))
    market = build_market(
        rng,
        articles,
        customers,
        n_weeks,
        int(start_date.isocalendar().week) - 1,
        {**params, "items_per_customer_week": sizes["items_per_customer_week"]},
    )
    weeks: list[dict[str, np.ndarray]] = []
    history = _history(weeks)
    for week in range(n_weeks):
        if week == n_weeks - 1:
            oracle = oracle_recommendations(
                market, week, n_weeks, history, customers, articles, params["k"]
            )
        weeks.append(_compact(simulate_week(rng, market, week, n_weeks, history)))
        history = _history(weeks[-market.window :])
    images = article_images(
        articles, params["seed"], params["image_size"], params["missing_image_share"]
    )
    logger.info(
        "Generated %d customers, %d articles (%d with an image), %d transactions over %d weeks "
        "(%s to %s)",
        len(customers),
        len(articles),
        len(images),
        sum(len(week["customer"]) for week in weeks),
        n_weeks,
        start_date.date(),
        end_date.date(),
    )
    transactions = transaction_chunks(weeks, start_date, customers, articles)
    return articles[ARTICLE_COLUMNS], customers[CUSTOMER_COLUMNS], transactions, images, oracle


def _compact(bought: pd.DataFrame) -> dict[str, np.ndarray]:
    """One week's purchases in the smallest exact dtypes (in simulation order)."""
    return {
        "customer": bought["customer"].to_numpy(np.int32),
        "article": bought["article"].to_numpy(np.int32),
        "day": bought["day"].to_numpy(np.int8),
        "channel": bought["channel"].to_numpy(np.int8),
        "price": bought["price"].to_numpy(np.float64),
    }


def _history(weeks: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """The purchases (customer, article) of ``weeks``, in simulation order."""
    return pd.DataFrame(
        {
            column: np.concatenate([week[column] for week in weeks] or [np.array([], np.int32)])
            for column in ("customer", "article")
        }
    )


def transaction_chunks(
    weeks: list[dict[str, np.ndarray]],
    start_date: pd.Timestamp,
    customers: pd.DataFrame,
    articles: pd.DataFrame,
) -> Iterator[pd.DataFrame]:
    """transactions_train.csv's columns, one week at a time, sorted by day like the real file.

    Columns are Arrow-backed (dates as date32, ids taken from one Arrow array of each table):
    no Python string per row, and the CSV writer renders dates as YYYY-MM-DD."""
    customer_ids = pa.array(customers["customer_id"], pa.string())
    article_ids = pa.array(articles["article_id"], pa.string())
    first_day = (start_date - pd.Timestamp("1970-01-01")).days
    for number, week in enumerate(weeks):
        order = np.argsort(week["day"], kind="stable")
        days = first_day + number * 7 + week["day"][order].astype(np.int32)
        yield pd.DataFrame(
            {
                "t_dat": pd.arrays.ArrowExtensionArray(pa.array(days, pa.date32())),
                "customer_id": pd.arrays.ArrowExtensionArray(
                    customer_ids.take(pa.array(week["customer"][order]))
                ),
                "article_id": pd.arrays.ArrowExtensionArray(
                    article_ids.take(pa.array(week["article"][order]))
                ),
                "price": week["price"][order],
                "sales_channel_id": week["channel"][order].astype(np.int64),
            }
        )

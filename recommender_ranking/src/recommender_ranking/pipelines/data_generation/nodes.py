"""The built-in local data: H&M-shaped files with planted structure and an exact oracle."""

import logging
from typing import Any

import numpy as np
import pandas as pd

from .catalogue import (
    ARTICLE_COLUMNS,
    CUSTOMER_COLUMNS,
    article_images,
    build_articles,
    build_customers,
    n_cells,
)
from .simulation import build_market, purchase_probabilities, simulate_week

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
    """
    sizes = generation_sizes(params)
    n_weeks = int(sizes["n_weeks"])
    rng = np.random.default_rng(params["seed"])
    end_date = pd.Timestamp(params["end_date"])
    start_date = end_date - pd.Timedelta(days=7 * n_weeks - 1)
    articles = build_articles(rng, int(sizes["n_articles"]), n_weeks)
    customers = build_customers(rng, int(sizes["n_customers"]))
    market = build_market(
        rng,
        articles,
        customers,
        n_weeks,
        int(start_date.isocalendar().week) - 1,
        {**params, "items_per_customer_week": sizes["items_per_customer_week"]},
    )
    weeks, history = [], _empty_history()
    for week in range(n_weeks):
        if week == n_weeks - 1:
            oracle = oracle_recommendations(
                market, week, n_weeks, history, customers, articles, params["k"]
            )
        bought = simulate_week(rng, market, week, n_weeks, history)
        bought["week"] = week
        weeks.append(bought)
        history = pd.concat(
            [frame[["customer", "article"]] for frame in weeks[-market.window :]],
            ignore_index=True,
        )
    transactions = _transactions_frame(weeks, start_date, customers, articles)
    images = article_images(
        articles, params["seed"], params["image_size"], params["missing_image_share"]
    )
    logger.info(
        "Generated %d customers, %d articles (%d with an image), %d transactions over %d weeks "
        "(%s to %s)",
        len(customers),
        len(articles),
        len(images),
        len(transactions),
        n_weeks,
        start_date.date(),
        end_date.date(),
    )
    return articles[ARTICLE_COLUMNS], customers[CUSTOMER_COLUMNS], transactions, images, oracle


def _empty_history() -> pd.DataFrame:
    return pd.DataFrame({"customer": np.array([], int), "article": np.array([], int)})


def _transactions_frame(weeks, start_date, customers, articles) -> pd.DataFrame:
    """transactions_train.csv's columns, sorted by day like the real file. Ids are categorical
    so that the real size (31.8 M rows) fits in memory; they are written as plain strings."""
    bought = pd.concat(weeks, ignore_index=True)
    day = bought["week"].to_numpy() * 7 + bought["day"].to_numpy()
    order = np.argsort(day, kind="stable")
    return pd.DataFrame(
        {
            # Dates, not strings (31.8 M Python strings at full size): the catalog writes them
            # as YYYY-MM-DD (save_args date_format).
            "t_dat": start_date + pd.to_timedelta(day[order], unit="D"),
            "customer_id": pd.Categorical.from_codes(
                bought["customer"].to_numpy()[order], categories=customers["customer_id"]
            ),
            "article_id": pd.Categorical.from_codes(
                bought["article"].to_numpy()[order], categories=articles["article_id"]
            ),
            "price": bought["price"].to_numpy()[order],
            "sales_channel_id": bought["channel"].to_numpy()[order],
        }
    )


def oracle_recommendations(market, week, n_weeks, history, customers, articles, k: int):
    """Each customer's k articles with the highest true purchase probability in ``week``
    (computed in chunks of customers: customers x articles never sits in memory whole)."""
    n_customers, n_articles = len(customers), len(articles)
    chunk = max(1, 2_000_000 // n_articles)
    k = min(k, n_articles)
    frames = []
    for first in range(0, n_customers, chunk):
        members = np.arange(first, min(first + chunk, n_customers))
        probability = purchase_probabilities(market, week, n_weeks, members, history)
        top = np.argpartition(-probability, k - 1, axis=1)[:, :k]
        top_probability = np.take_along_axis(probability, top, 1)
        order = np.argsort(-top_probability, axis=1, kind="stable")
        top = np.take_along_axis(top, order, 1)
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": np.repeat(customers["customer_id"].to_numpy()[members], k),
                    "article_id": articles["article_id"].to_numpy()[top.ravel()],
                    "probability": np.take_along_axis(top_probability, order, 1).ravel(),
                    "rank": np.tile(np.arange(1, k + 1), len(members)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)

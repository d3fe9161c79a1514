"""Raw H&M files -> validated, optionally sampled articles, customers and transactions."""

import logging
from typing import Any

import numpy as np
import pandas as pd

from .contract import ARTICLES, CUSTOMERS, TRANSACTIONS, article_ids, require_columns

logger = logging.getLogger(__name__)


def validate_raw_inputs(
    raw_articles: pd.DataFrame, raw_customers: pd.DataFrame, raw_transactions: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """All three files checked in one node, before anything is written: a bad file stops the
    run with every earlier output (prepared tables, reports, models) untouched."""
    articles = validate_articles(raw_articles)
    customers = validate_customers(raw_customers)
    return articles, customers, validate_transactions(raw_transactions, articles, customers)


def validate_articles(raw_articles: pd.DataFrame) -> pd.DataFrame:
    """Every contract column, 10-character unique ids (9-digit ids padded and counted)."""
    require_columns(raw_articles, ARTICLES, "articles")
    articles = raw_articles[list(ARTICLES)].copy()
    articles["article_id"], repaired = article_ids(articles["article_id"], "articles")
    if repaired:
        logger.warning(
            "articles.csv: %d article_id(s) had lost their leading zero and were padded to 10 "
            "digits",
            repaired,
        )
    duplicated = articles["article_id"].duplicated()
    if duplicated.any():
        raise ValueError(
            f"articles.csv: column 'article_id' must be unique; {int(duplicated.sum())} "
            f"duplicate(s), e.g. {articles.loc[duplicated, 'article_id'].head(3).tolist()}"
        )
    articles["detail_desc"] = articles["detail_desc"].astype("object")
    return articles


def validate_customers(raw_customers: pd.DataFrame) -> pd.DataFrame:
    """Every contract column, unique non-empty ids, ``age`` as float (nullable)."""
    require_columns(raw_customers, CUSTOMERS, "customers")
    customers = raw_customers[list(CUSTOMERS)].copy()
    ids = customers["customer_id"]
    if ids.isna().any() or ids.duplicated().any():
        raise ValueError(
            "customers.csv: column 'customer_id' must be unique and never empty; "
            f"{int(ids.isna().sum())} empty, {int(ids.duplicated().sum())} duplicated"
        )
    customers["customer_id"] = ids.astype(str)
    customers["age"] = pd.to_numeric(customers["age"], errors="coerce").astype("float64")
    return customers


def validate_transactions(
    raw_transactions: pd.DataFrame, articles: pd.DataFrame, customers: pd.DataFrame
) -> pd.DataFrame:
    """Contract columns and types; rows of unknown customers or articles dropped and counted."""
    require_columns(raw_transactions, TRANSACTIONS, "transactions")
    transactions = raw_transactions[list(TRANSACTIONS)].copy()
    transactions["article_id"], repaired = article_ids(transactions["article_id"], "transactions")
    if repaired:
        logger.warning(
            "transactions_train.csv: %d article_id(s) had lost their leading zero and were "
            "padded to 10 digits",
            repaired,
        )
    transactions["t_dat"] = _dates(transactions["t_dat"])
    transactions["price"] = _numbers(transactions["price"], "price").astype("float64")
    transactions["sales_channel_id"] = _numbers(
        transactions["sales_channel_id"], "sales_channel_id"
    ).astype("int64")
    transactions["customer_id"] = transactions["customer_id"].astype(str)
    known_customer = transactions["customer_id"].isin(customers["customer_id"])
    known_article = transactions["article_id"].isin(articles["article_id"])
    logger.info(
        "transactions_train.csv: %d rows; dropped %d of unknown customers and %d of unknown "
        "articles",
        len(transactions),
        int((~known_customer).sum()),
        int((known_customer & ~known_article).sum()),
    )
    return transactions[known_customer & known_article].reset_index(drop=True)


def _dates(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    if parsed.isna().any():
        raise ValueError(
            f"transactions_train.csv: column 't_dat' must hold dates YYYY-MM-DD; "
            f"{int(parsed.isna().sum())} value(s) do not, e.g. "
            f"{values[parsed.isna()].head(3).tolist()}"
        )
    return parsed.astype("datetime64[ns]")


def _numbers(values: pd.Series, column: str) -> pd.Series:
    parsed = pd.to_numeric(values, errors="coerce")
    if parsed.isna().any():
        raise ValueError(
            f"transactions_train.csv: column '{column}' must hold {TRANSACTIONS[column]}; "
            f"{int(parsed.isna().sum())} value(s) do not, e.g. "
            f"{values[parsed.isna()].head(3).tolist()}"
        )
    return parsed


def sample_customers(customers: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """A seeded share of the customers (all of them at 1.0): the real 1.37 M on a laptop."""
    share = float(params["customer_sample_share"])
    if not 0 < share <= 1:
        raise ValueError(f"data_preparation.customer_sample_share must be in (0, 1]; got {share}")
    if share == 1:
        return customers.reset_index(drop=True)
    # Sorted ids make the sample independent of the file's row order.
    ordered = customers.sort_values("customer_id", kind="stable")
    keep = np.random.default_rng(params["seed"]).random(len(ordered)) < share
    logger.warning(
        "data_preparation.customer_sample_share=%.3f keeps %d of %d customers: submission.csv "
        "will name only those, and Kaggle rejects a submission that misses a customer "
        "(set customer_sample_share: 1.0 to submit)",
        share,
        int(keep.sum()),
        len(ordered),
    )
    return ordered[keep].reset_index(drop=True)


def select_transactions(
    transactions: pd.DataFrame, customers: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Transactions of the sampled customers in the date window; the last 7 days of the window
    (the test week) must hold purchases."""
    end = (
        pd.Timestamp(params["end_date"]) if params.get("end_date") else transactions["t_dat"].max()
    )
    start = (
        pd.Timestamp(params["start_date"])
        if params.get("start_date")
        else transactions["t_dat"].min()
    )
    in_window = transactions["t_dat"].between(start, end)
    selected = transactions[in_window & transactions["customer_id"].isin(customers["customer_id"])]
    test_week = selected["t_dat"] > end - pd.Timedelta(days=7)
    if selected.empty or not test_week.any():
        data_range = (
            f"{transactions['t_dat'].min().date()} to {transactions['t_dat'].max().date()}"
            if len(transactions)
            else "no rows"
        )
        raise ValueError(
            f"transactions_train.csv: the target (test) week {(end - pd.Timedelta(days=6)).date()}"
            f" to {end.date()} has no transactions of the selected customers (the data spans "
            f"{data_range}). Check data_preparation.start_date/end_date and "
            "customer_sample_share in conf/base/parameters_data_preparation.yml"
        )
    logger.info(
        "Selected %d transactions from %s to %s (%d customers)",
        len(selected),
        start.date(),
        end.date(),
        selected["customer_id"].nunique(),
    )
    return selected.sort_values(["t_dat", "customer_id"], kind="stable").reset_index(drop=True)

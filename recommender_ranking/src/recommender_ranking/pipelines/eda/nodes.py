"""Profiling reports (fg-data-profiling) and a few plots of the prepared tables."""

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

logger = logging.getLogger(__name__)


def profile_report(data: pd.DataFrame, params: dict[str, Any], title: str) -> str:
    """An HTML profile of ``data``: a seeded row sample above ``max_rows``, and minimal mode
    (no correlations, interactions or duplicates: minutes instead of hours) above
    ``minimal_above_rows``."""
    # Imported here: the library is heavy and only this node needs it.
    from data_profiling import ProfileReport

    rows = len(data)
    if rows > params["max_rows"]:
        data = data.sample(n=params["max_rows"], random_state=params["seed"])
    minimal = rows > params["minimal_above_rows"]
    logger.info("Profiling %s: %d of %d rows, minimal=%s", title, len(data), rows, minimal)
    report = ProfileReport(
        data.reset_index(drop=True),
        title=f"{title} ({rows:,} rows{', sampled' if len(data) < rows else ''})",
        minimal=minimal,
        progress_bar=False,
    )
    return report.to_html()


def profile_articles(articles: pd.DataFrame, params: dict[str, Any]) -> str:
    return profile_report(articles, params, "articles")


def profile_customers(customers: pd.DataFrame, params: dict[str, Any]) -> str:
    return profile_report(customers, params, "customers")


def transactions_reports(
    transactions: pd.DataFrame, params: dict[str, Any]
) -> tuple[str, Figure, Figure]:
    """The profile, weekly sales and price plots of transactions: one node, so that the largest
    table (31.8 M rows at full size) is loaded once, not once per report."""
    return (
        profile_report(transactions, params, "transactions"),
        weekly_sales_plot(transactions),
        price_plot(transactions),
    )


def weekly_sales_plot(transactions: pd.DataFrame) -> Figure:
    """Transactions and distinct buyers per week (the weeks end on the data's last day, as
    the splits do)."""
    end = transactions["t_dat"].max()
    weeks_back = (end - transactions["t_dat"]).dt.days // 7
    week_end = end - pd.to_timedelta(weeks_back * 7, unit="D")
    weekly = transactions.groupby(week_end).agg(
        transactions=("article_id", "size"), buyers=("customer_id", "nunique")
    )
    figure = Figure(figsize=(8, 4))
    axes = figure.add_subplot()
    axes.plot(weekly.index, weekly["transactions"], marker="o", label="transactions")
    axes.plot(weekly.index, weekly["buyers"], marker="o", label="distinct buyers")
    axes.set(title="Weekly sales", xlabel="week ending", ylabel="count")
    axes.legend()
    figure.autofmt_xdate()
    return figure


def age_plot(customers: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    ages = customers["age"].dropna()
    axes.hist(ages, bins=range(int(ages.min()) if len(ages) else 0, 101, 2))
    missing = int(customers["age"].isna().sum())
    axes.set(title=f"Customer age ({missing:,} missing)", xlabel="age", ylabel="customers")
    return figure


def price_plot(transactions: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    axes.hist(transactions["price"], bins=60)
    axes.set(title="Price paid per item (normalised)", xlabel="price", ylabel="transactions")
    axes.set_yscale("log")
    return figure

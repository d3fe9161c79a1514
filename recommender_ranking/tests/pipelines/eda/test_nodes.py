"""EDA: HTML profiles (fg-data-profiling), sampled and minimal above the size parameters;
plots of weekly sales, age and price."""

import numpy as np
import pandas as pd

from recommender_ranking.pipelines.eda.nodes import (
    age_plot,
    price_plot,
    profile_report,
    transactions_reports,
    weekly_sales_plot,
)

PARAMS = {"seed": 0, "max_rows": 50, "minimal_above_rows": 10}


def _transactions() -> pd.DataFrame:
    days = pd.date_range("2020-09-01", "2020-09-21", freq="D")
    return pd.DataFrame(
        {
            "t_dat": np.repeat(days, [i % 3 + 1 for i in range(len(days))]),
            "customer_id": [f"c{i % 5}" for i in range(sum(i % 3 + 1 for i in range(len(days))))],
            "article_id": "0108775015",
            "price": 0.02,
            "sales_channel_id": 2,
        }
    )


def test_profile_is_html_of_a_seeded_sample_above_max_rows():
    transactions = _transactions()
    small = profile_report(transactions.head(8), PARAMS, "transactions")
    assert small.lstrip().lower().startswith("<!doctype html>")
    assert "transactions (8 rows)" in small
    sampled = profile_report(transactions, {**PARAMS, "max_rows": 20}, "transactions")
    assert f"transactions ({len(transactions)} rows, sampled)" in sampled


def test_minimal_mode_above_the_size_parameter_leaves_out_correlations():
    data = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) ** 2})
    full = profile_report(data, {**PARAMS, "minimal_above_rows": 100}, "t")
    minimal = profile_report(data, PARAMS, "t")
    assert "Correlations" in full
    assert "Correlations" not in minimal


def test_weekly_sales_counts_weeks_ending_on_the_last_day():
    transactions = _transactions()
    axes = weekly_sales_plot(transactions).axes[0]
    line = axes.get_lines()[0]
    assert list(line.get_ydata()) == [
        len(transactions[transactions["t_dat"] <= "2020-09-07"]),
        len(transactions[transactions["t_dat"].between("2020-09-08", "2020-09-14")]),
        len(transactions[transactions["t_dat"] >= "2020-09-15"]),
    ]
    assert axes.get_title() == "Weekly sales"


def test_age_and_price_plots_count_what_they_show():
    customers = pd.DataFrame({"age": [20.0, 30.0, np.nan, 45.0]})
    axes = age_plot(customers).axes[0]
    assert "(1 missing)" in axes.get_title()
    assert sum(patch.get_height() for patch in axes.patches) == 3
    prices = price_plot(_transactions()).axes[0]
    assert sum(patch.get_height() for patch in prices.patches) == len(_transactions())


def test_transactions_reports_come_from_one_load_of_the_table():
    transactions = _transactions()
    profile, weekly, prices = transactions_reports(transactions, PARAMS)
    assert f"transactions ({len(transactions)} rows" in profile
    assert weekly.axes[0].get_title() == "Weekly sales"
    assert sum(patch.get_height() for patch in prices.axes[0].patches) == len(transactions)


def test_the_pipeline_loads_transactions_in_one_node():
    from recommender_ranking.pipelines.eda import create_pipeline

    nodes = create_pipeline().nodes
    readers = [node.name for node in nodes if "transactions@pandas" in node.inputs]
    assert readers == ["report_transactions"]

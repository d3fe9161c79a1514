"""Profiling reports and plots of articles, customers and transactions."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    age_plot,
    price_plot,
    profile_articles,
    profile_customers,
    profile_transactions,
    weekly_sales_plot,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                profile_articles,
                ["articles", "params:eda"],
                "eda_articles_profile",
                name="profile_articles",
            ),
            Node(
                profile_customers,
                ["customers", "params:eda"],
                "eda_customers_profile",
                name="profile_customers",
            ),
            Node(
                profile_transactions,
                ["transactions", "params:eda"],
                "eda_transactions_profile",
                name="profile_transactions",
            ),
            Node(
                weekly_sales_plot, "transactions", "eda_weekly_sales_plot", name="plot_weekly_sales"
            ),
            Node(age_plot, "customers", "eda_age_plot", name="plot_age"),
            Node(price_plot, "transactions", "eda_price_plot", name="plot_price"),
        ]
    )

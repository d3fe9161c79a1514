"""Profiling reports and plots of articles, customers and transactions."""

from kedro.pipeline import Node, Pipeline

from .nodes import age_plot, profile_articles, profile_customers, transactions_reports


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
                transactions_reports,
                ["transactions@pandas", "params:eda"],
                ["eda_transactions_profile", "eda_weekly_sales_plot", "eda_price_plot"],
                name="report_transactions",
            ),
            Node(age_plot, "customers", "eda_age_plot", name="plot_age"),
        ]
    )

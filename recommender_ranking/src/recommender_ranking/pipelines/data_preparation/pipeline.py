"""Validate the raw files first, then sample customers and a date window."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    sample_customers,
    select_transactions,
    validate_articles,
    validate_customers,
    validate_transactions,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(validate_articles, "raw_articles", "articles", name="validate_articles"),
            Node(
                validate_customers,
                "raw_customers",
                "validated_customers",
                name="validate_customers",
            ),
            Node(
                validate_transactions,
                ["raw_transactions", "articles", "validated_customers"],
                "validated_transactions",
                name="validate_transactions",
            ),
            Node(
                sample_customers,
                ["validated_customers", "params:data_preparation"],
                "customers",
                name="sample_customers",
            ),
            Node(
                select_transactions,
                ["validated_transactions", "customers", "params:data_preparation"],
                "transactions",
                name="select_transactions",
            ),
        ]
    )

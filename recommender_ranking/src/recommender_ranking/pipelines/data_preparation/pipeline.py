"""Validate the raw files first (one node, nothing written before it passes), then sample
customers and a date window."""

from kedro.pipeline import Node, Pipeline

from .nodes import sample_customers, select_transactions, validate_raw_inputs


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                validate_raw_inputs,
                ["raw_articles", "raw_customers", "raw_transactions"],
                ["articles", "validated_customers", "validated_transactions"],
                name="validate_raw_inputs",
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
                "transactions@pandas",
                name="select_transactions",
            ),
        ]
    )

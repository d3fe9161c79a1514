"""Candidate sources (one node each), their union with a fallback, and the recall report."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    check_source,
    check_week_calendar,
    collect_week_purchases,
    nearest_neighbour_candidates,
    select_customer_weeks,
)
from .union import candidate_report, combine_candidates

SQL_SOURCES = [
    "popularity",
    "segment_popularity",
    "repurchase",
    "same_product",
    "copurchase",
    "taste",
]
EMBEDDING_SOURCES = {"image_neighbours": "image", "text_neighbours": "text"}
SOURCES = [*SQL_SOURCES, *EMBEDDING_SOURCES]


def create_pipeline(**kwargs) -> Pipeline:
    # The queries (sql_*) read the files data_preparation writes: `transactions` as an input of
    # the first node makes Kedro run them after it. The calendar, then the ranked customers,
    # are written before every other query, which reads them as tables (customer_weeks is an
    # input of each of their nodes). Week 0 (the recommendation week) is left to the
    # recommendations pipeline, which runs the same queries chunk by chunk.
    nodes = [
        Node(
            func=check_week_calendar,
            inputs=["sql_week_calendar", "transactions@days_customers"],
            outputs="week_calendar",
            name="check_week_calendar",
        ),
        Node(
            func=select_customer_weeks,
            inputs=[
                "sql_customer_weeks",
                "transactions@days_customers",
                "week_calendar",
                "params:candidate_generation.as_of_date",
                "params:candidate_generation.customers_per_chunk",
            ],
            outputs=["customer_weeks", "recommendation_customers"],
            name="select_customer_weeks",
        ),
        Node(
            func=collect_week_purchases,
            inputs=["sql_week_purchases", "customer_weeks"],
            outputs="week_purchases",
            name="collect_week_purchases",
        ),
    ]
    nodes += [
        Node(
            func=check_source,
            inputs=[
                f"sql_candidates_{source}",
                "customer_weeks",
                f"params:candidate_generation.{source}",
            ],
            outputs=f"candidates_{source}",
            name=f"candidates_{source}",
        )
        for source in SQL_SOURCES
    ]
    nodes += [
        Node(
            func=nearest_neighbour_candidates,
            inputs=[
                f"article_{modality}_embeddings",
                "candidates_repurchase",
                "transactions@days_articles",
                "customer_weeks",
                f"params:candidate_generation.{source}",
            ],
            outputs=f"candidates_{source}",
            name=f"candidates_{source}",
        )
        for source, modality in EMBEDDING_SOURCES.items()
    ]
    nodes += [
        Node(
            func=combine_candidates,
            inputs={
                "customer_weeks": "customer_weeks",
                "params": "params:candidate_generation.union",
                **{source: f"candidates_{source}" for source in SOURCES},
            },
            outputs="candidates",
            name="combine_candidates",
        ),
        Node(
            func=candidate_report,
            inputs=["candidates", "week_purchases", "params:candidate_generation.report"],
            outputs=["candidate_recall_report", "candidate_mlflow_metrics"],
            name="candidate_recall_report",
        ),
    ]
    return Pipeline(nodes)

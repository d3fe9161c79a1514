"""The inference pipeline: week 0's candidates and features chunk by chunk, scored by the
champion."""

from kedro.pipeline import Node, Pipeline

from recommender_ranking.pipelines.candidate_generation.pipeline import SQL_SOURCES

from .nodes import FEATURE_QUERIES, recommend


def create_pipeline(**kwargs) -> Pipeline:
    queries = [f"candidates_{source}" for source in SQL_SOURCES] + FEATURE_QUERIES
    return Pipeline(
        [
            Node(
                func=recommend,
                inputs={
                    "champion_model": "champion_model",
                    "customers": "customers",
                    "articles": "articles",
                    "transactions": "transactions@pandas",
                    "article_image_embeddings": "article_image_embeddings",
                    "article_text_embeddings": "article_text_embeddings",
                    "candidate_params": "params:candidate_generation",
                    "feature_params": "params:feature_engineering",
                    "params": "params:recommendations",
                    "customer_weeks": "recommendation_customers",
                    **{query: f"recommendation_sql_{query}" for query in queries},
                },
                outputs="submission",
                name="recommend",
            )
        ]
    )

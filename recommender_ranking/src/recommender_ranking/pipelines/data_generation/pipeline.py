"""The built-in local data: H&M-shaped files, images and the oracle."""

from kedro.pipeline import Node, Pipeline

from .nodes import generate_hm_data


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=generate_hm_data,
                inputs="params:data_generation",
                outputs=[
                    "raw_articles",
                    "raw_customers",
                    "raw_transactions",
                    "raw_article_images",
                    "oracle_recommendations",
                ],
                name="generate_hm_data",
            )
        ]
    )

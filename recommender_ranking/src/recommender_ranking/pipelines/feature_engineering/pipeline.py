"""Join the SQL features to the candidates, add embedding similarities and DFS, select."""

from kedro.pipeline import Node, Pipeline

from .nodes import add_embedding_similarity, build_model_input, join_sql_features
from .selection import dfs_customer_features, select_features


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=join_sql_features,
                inputs=[
                    "candidates",
                    "sql_customer_features",
                    "sql_article_features",
                    "sql_customer_article_features",
                    "sql_customer_attribute_features",
                    "params:feature_engineering",
                ],
                outputs="candidate_sql_features",
                name="join_sql_features",
            ),
            Node(
                func=add_embedding_similarity,
                inputs=[
                    "candidate_sql_features",
                    "candidates_repurchase",
                    "article_image_embeddings",
                    "article_text_embeddings",
                    "params:feature_engineering",
                ],
                outputs="hand_features",
                name="add_embedding_similarity",
            ),
            Node(
                func=dfs_customer_features,
                inputs=[
                    "transactions@pandas",
                    "customers",
                    "articles",
                    "customer_weeks",
                    "params:feature_engineering.dfs",
                ],
                outputs="dfs_features",
                name="deep_feature_synthesis",
            ),
            Node(
                func=build_model_input,
                inputs=["hand_features", "dfs_features", "week_purchases"],
                outputs="ranking_features",
                name="build_model_input",
            ),
            Node(
                func=select_features,
                inputs=["ranking_features", "params:feature_engineering.selection"],
                outputs="feature_selection",
                name="select_features",
            ),
        ]
    )

"""Score the test week, compare every recommender, plot the comparison."""

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_recommenders, evaluation_plot, score_test_week


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=score_test_week,
                inputs=[
                    "ranker",
                    "backtest_ranker",
                    "ranking_features",
                    "ranker_hyperparameters",
                    "params:model_evaluation",
                ],
                outputs="test_scores",
                name="score_test_week",
            ),
            Node(
                func=evaluate_recommenders,
                inputs=[
                    "test_scores",
                    "week_purchases",
                    "customer_weeks",
                    "customers",
                    "oracle_recommendations",
                    "params:model_evaluation",
                ],
                outputs=["evaluation_table", "evaluation_mlflow_metrics"],
                name="evaluate_recommenders",
            ),
            Node(
                func=evaluation_plot,
                inputs=["evaluation_table", "params:model_evaluation"],
                outputs="evaluation_plot",
                name="plot_evaluation",
            ),
        ]
    )

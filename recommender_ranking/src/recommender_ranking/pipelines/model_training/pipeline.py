"""Tune and train the lambdarank model, refit it on the latest weeks; measure what DFS adds."""

from kedro.pipeline import Node, Pipeline

from .nodes import feature_ablation, train_ranker
from .refit import refit_backtest_ranker, refit_future_ranker

INPUTS = ["ranking_features", "week_purchases", "feature_selection", "params:model_training"]
REFIT_INPUTS = ["ranking_features", "ranker_hyperparameters", "params:model_training"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=train_ranker,
                inputs=INPUTS,
                outputs=["ranker", "ranker_hyperparameters", "optuna_trials"],
                name="train_ranker",
            ),
            Node(
                func=refit_backtest_ranker,
                inputs=["ranker", *REFIT_INPUTS],
                outputs="backtest_ranker",
                name="refit_backtest_ranker",
            ),
            Node(
                func=refit_future_ranker,
                inputs=["ranker", *REFIT_INPUTS],
                outputs="refit_ranker",
                name="refit_future_ranker",
            ),
            Node(
                func=feature_ablation,
                inputs=INPUTS,
                outputs=["feature_ablation", "feature_ablation_mlflow_metrics"],
                name="feature_ablation",
            ),
        ]
    )

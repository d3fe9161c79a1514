"""Metrics table, MLflow metrics and four diagnostic plots from the test predictions."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    calibration_plot,
    cumulative_gains_plot,
    evaluate_models,
    precision_recall_plot,
    roc_plot,
)

INPUTS = ["test_predictions", "params:model_input.columns", "params:model_evaluation"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=evaluate_models,
                inputs=INPUTS,
                outputs=["evaluation_metrics", "evaluation_mlflow_metrics"],
                name="evaluate_models",
            ),
            Node(
                func=calibration_plot,
                inputs=INPUTS,
                outputs="evaluation_calibration_plot",
                name="plot_calibration",
            ),
            Node(func=roc_plot, inputs=INPUTS, outputs="evaluation_roc_plot", name="plot_roc"),
            Node(
                func=precision_recall_plot,
                inputs=INPUTS,
                outputs="evaluation_precision_recall_plot",
                name="plot_precision_recall",
            ),
            Node(
                func=cumulative_gains_plot,
                inputs=INPUTS,
                outputs="evaluation_cumulative_gains_plot",
                name="plot_cumulative_gains",
            ),
        ]
    )

"""Label past score partitions, measure them over time, and decide on retraining."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    compute_realized_performance,
    label_past_scores,
    plot_realized_performance,
    realized_performance_mlflow_metrics,
    summarise_realized_performance,
)
from .retraining import decide_retraining


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=label_past_scores,
                inputs=[
                    "inference_scores",
                    "ga4_events@activity_days",
                    "ga4_events@data_window",
                    "params:performance_monitoring",
                    "params:model_input.columns",
                ],
                outputs="labelled_scores",
                name="label_past_scores",
            ),
            Node(
                func=compute_realized_performance,
                inputs=[
                    "labelled_scores",
                    "registered_model_test_metrics",
                    "params:performance_monitoring",
                    "params:model_input.columns",
                ],
                outputs="realized_performance",
                name="compute_realized_performance",
            ),
            Node(
                func=summarise_realized_performance,
                inputs="realized_performance",
                outputs="performance_summary",
                name="summarise_realized_performance",
            ),
            Node(
                func=realized_performance_mlflow_metrics,
                inputs="realized_performance",
                outputs="realized_performance_mlflow_metrics",
                name="realized_performance_mlflow_metrics",
            ),
            Node(
                func=plot_realized_performance,
                inputs="realized_performance",
                outputs="realized_performance_plot",
                name="plot_realized_performance",
            ),
            Node(
                func=decide_retraining,
                inputs=["inference_drift_summary", "performance_summary", "params:retraining"],
                outputs=["retraining_decision", "retraining_tags"],
                name="decide_retraining",
            ),
        ]
    )

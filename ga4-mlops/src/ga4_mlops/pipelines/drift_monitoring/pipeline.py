"""PSI report, verdict, plot and MLflow metrics: train rows vs scoring rows, and the test
split's out-of-sample scores vs the batch scores."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    category_drift,
    compute_drift_report,
    drift_mlflow_metrics,
    plot_drift,
    summarise_drift,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=compute_drift_report,
                inputs=[
                    "train_set",
                    "scoring_set",
                    "test_predictions",
                    "batch_scores",
                    "params:model_input.columns",
                    "params:drift_monitoring",
                ],
                outputs="drift_report",
                name="compute_drift_report",
            ),
            Node(
                func=category_drift,
                inputs=[
                    "train_set",
                    "scoring_set",
                    "params:model_input.columns",
                    "params:drift_monitoring",
                ],
                outputs="drift_categories",
                name="compute_category_drift",
            ),
            Node(
                func=summarise_drift,
                inputs="drift_report",
                outputs="drift_summary",
                name="summarise_drift",
            ),
            Node(
                func=drift_mlflow_metrics,
                inputs="drift_report",
                outputs="drift_mlflow_metrics",
                name="drift_mlflow_metrics",
            ),
            Node(
                func=plot_drift,
                inputs=["drift_report", "params:drift_monitoring"],
                outputs="drift_plot",
                name="plot_drift",
            ),
        ]
    )

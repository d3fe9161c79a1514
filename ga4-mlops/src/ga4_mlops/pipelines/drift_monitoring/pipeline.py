"""PSI report, verdict, plot and MLflow metrics: the champion's train rows vs scoring rows,
and the champion's out-of-sample test scores vs the batch scores (``drift_reference_*``: logged
by the run that registered the champion, see ``build_drift_reference``)."""

from kedro.pipeline import Node, Pipeline

from .nodes import drift_mlflow_metrics, drift_tables, plot_drift, summarise_drift


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            # One node: it waits for batch_scores, i.e. for this run's promotion decision, so
            # the references read by alias are those of the model that scored.
            Node(
                func=drift_tables,
                inputs=[
                    "drift_reference_rows",
                    "scoring_set",
                    "drift_reference_scores",
                    "batch_scores",
                    "params:model_input.columns",
                    "params:drift_monitoring",
                ],
                outputs=["drift_report", "drift_categories"],
                name="compute_drift_report",
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

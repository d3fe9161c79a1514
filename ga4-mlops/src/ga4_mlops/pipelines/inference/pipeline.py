"""One as-of date: checked feature rows, champion scores, one partition per date, drift.

Drift compares the date's rows with the champion's training rows and its scores with the
champion's out-of-sample scores on the test split (``drift_reference_rows`` and
``drift_reference_scores``: logged by the run that registered the champion).
"""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from ga4_mlops.pipelines.batch_scoring.nodes import score_rows
from ga4_mlops.pipelines.drift_monitoring.nodes import compute_drift_report, summarise_drift

from .nodes import as_of_partitions, prepare_inference_rows


def _named(func, **kwargs):
    """``partial(func, **kwargs)`` with ``func``'s name and type hints: Kedro 1.7 reads the hints
    of every node function and warns "Could not extract type hints" on a bare partial."""
    return update_wrapper(partial(func, **kwargs), func)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=prepare_inference_rows,
                inputs=[
                    "ga4_events@inference_features",
                    "ga4_events@data_window",
                    "params:inference",
                    "params:model_input.columns",
                ],
                outputs="inference_rows",
                name="prepare_inference_rows",
            ),
            Node(
                func=score_rows,
                inputs=["champion_model", "inference_rows", "params:model_input.columns"],
                outputs="inference_scores_of_date",
                name="score_inference_rows",
            ),
            Node(
                func=as_of_partitions,
                inputs=["inference_scores_of_date", "inference_rows", "params:model_input.columns"],
                outputs=["inference_scores", "inference_features"],
                name="partition_inference_scores",
            ),
            Node(
                func=_named(
                    compute_drift_report,
                    datasets=(
                        "drift_reference_rows",
                        "inference_rows",
                        "drift_reference_scores",
                        "inference_scores_of_date",
                    ),
                ),
                inputs=[
                    "drift_reference_rows",
                    "inference_rows",
                    "drift_reference_scores",
                    "inference_scores_of_date",
                    "params:model_input.columns",
                    "params:drift_monitoring",
                ],
                outputs="inference_drift_report",
                name="compute_inference_drift_report",
            ),
            Node(
                func=summarise_drift,
                inputs="inference_drift_report",
                outputs="inference_drift_summary",
                name="summarise_inference_drift",
            ),
        ]
    )

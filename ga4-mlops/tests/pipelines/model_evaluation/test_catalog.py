import pandas as pd
import pytest
from kedro.io import DataCatalog
from kedro.io.core import VersionAlreadyExistsError

from ga4_mlops.pipelines.model_evaluation.nodes import (
    calibration_plot,
    cumulative_gains_plot,
    evaluate_models,
    precision_recall_plot,
    roc_plot,
)

from .mlflow_catalog import artifact_paths, local_version, run_metrics, run_with_catalog
from .test_nodes import PARAMS
from .test_nodes import (
    test_predictions as test_predictions,
)  # a fixture, shared with the node tests

PLOTS = {
    "evaluation_calibration_plot": calibration_plot,
    "evaluation_roc_plot": roc_plot,
    "evaluation_precision_recall_plot": precision_recall_plot,
    "evaluation_cumulative_gains_plot": cumulative_gains_plot,
}


def test_outputs_are_saved_versioned_and_logged_to_mlflow(
    tmp_path, monkeypatch, test_predictions, churn_columns
):
    table, mlflow_metrics = evaluate_models(test_predictions, churn_columns, PARAMS)
    with run_with_catalog("model_evaluation", tmp_path, monkeypatch) as (catalog, run_id):
        catalog.save("evaluation_metrics", table)
        catalog.save("evaluation_mlflow_metrics", mlflow_metrics)
        for name, plot in PLOTS.items():
            catalog.save(name, plot(test_predictions, churn_columns, PARAMS))
        reloaded = catalog.load("evaluation_metrics")

    pd.testing.assert_frame_equal(reloaded, table, check_dtype=False)
    assert local_version(tmp_path, "data/08_reporting/evaluation_metrics.csv").is_file()
    assert local_version(tmp_path, "data/08_reporting/evaluation_roc_plot.png").is_file()
    assert artifact_paths(tmp_path, run_id) == {
        "evaluation/evaluation_metrics.csv",
        *(f"evaluation/{name}.png" for name in PLOTS),
    }
    metrics = run_metrics(tmp_path, run_id)
    assert metrics["test.model_calibrated.roc_auc"] == pytest.approx(
        table.set_index("model").loc["model_calibrated", "roc_auc"]
    )
    assert set(metrics) == {f"test.{name}" for name in mlflow_metrics}  # catalog prefix


def test_kedro_mlflow_wrapper_cannot_version_the_wrapped_dataset(tmp_path):
    """Why the catalog uses VersionedMlflowArtifactDataset: with kedro-mlflow 2.0.3 and
    Kedro 1.7, ``versioned: true`` inside MlflowArtifactDataset's ``dataset`` gets its own
    save version, which the catalog refuses. If this starts passing, the plain wrapper works."""
    catalog = DataCatalog.from_config(
        {
            "report": {
                "type": "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
                "dataset": {
                    "type": "pandas.CSVDataset",
                    "filepath": str(tmp_path / "report.csv"),
                    "versioned": True,
                },
            }
        },
        save_version="2026-01-02T03.04.05.678Z",
    )
    with pytest.raises(VersionAlreadyExistsError):
        catalog.save("report", pd.DataFrame({"a": [1]}))

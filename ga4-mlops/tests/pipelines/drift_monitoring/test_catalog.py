import json

import pandas as pd
import pytest

from ga4_mlops.pipelines.drift_monitoring.nodes import (
    compute_drift_report,
    drift_mlflow_metrics,
    plot_drift,
    summarise_drift,
)

from ..model_evaluation.mlflow_catalog import (
    artifact_paths,
    local_version,
    run_metrics,
    run_with_catalog,
)
from .test_nodes import PARAMS
from .test_nodes import drift_inputs as drift_inputs  # a fixture, shared with the node tests


def test_outputs_are_saved_versioned_and_logged_to_mlflow(
    tmp_path, monkeypatch, drift_inputs, churn_columns
):
    report = compute_drift_report(*drift_inputs, churn_columns, PARAMS)
    summary = summarise_drift(report)
    metrics = drift_mlflow_metrics(report)
    with run_with_catalog("drift_monitoring", tmp_path, monkeypatch) as (catalog, run_id):
        catalog.save("drift_report", report)
        catalog.save("drift_plot", plot_drift(report, PARAMS))
        catalog.save("drift_summary", summary)
        catalog.save("drift_mlflow_metrics", metrics)
        reloaded = catalog.load("drift_report")

    pd.testing.assert_frame_equal(reloaded, report)
    summary_file = local_version(tmp_path, "data/08_reporting/drift_summary.json")
    assert json.loads(summary_file.read_text()) == summary
    assert artifact_paths(tmp_path, run_id) == {"drift/drift_report.csv", "drift/drift_plot.png"}
    logged = run_metrics(tmp_path, run_id)
    assert set(logged) == {f"drift.{name}" for name in metrics}  # catalog prefix
    assert logged["drift.psi.tenure_months"] == pytest.approx(
        report.set_index("feature").loc["tenure_months", "psi"]
    )

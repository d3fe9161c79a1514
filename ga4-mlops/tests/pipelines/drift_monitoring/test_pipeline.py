import pandas as pd
from matplotlib.figure import Figure

from ga4_mlops.pipelines.drift_monitoring import create_pipeline

from ..model_evaluation.mlflow_catalog import catalog_config, parameters, run_in_memory
from .test_nodes import drift_inputs as drift_inputs  # a fixture, shared with the node tests


def test_pipeline_runs_on_the_yaml_parameters(tmp_path, drift_inputs, churn_columns):
    train_set, scoring_set, train_scores, batch_scores = drift_inputs
    pipeline = create_pipeline()
    outputs = run_in_memory(
        pipeline,
        {
            "drift_reference_rows": train_set,
            "scoring_set": scoring_set,
            "drift_reference_scores": train_scores,
            "batch_scores": batch_scores,
            "params:model_input.columns": churn_columns,
            "params:drift_monitoring": parameters("drift_monitoring", tmp_path),
        },
    )
    assert isinstance(outputs["drift_report"], pd.DataFrame)
    assert set(outputs["drift_summary"]) >= {
        "drift_detected",
        "alert_features",
        "max_psi",
        "score_psi",
    }
    assert isinstance(outputs["drift_plot"], Figure)
    assert set(outputs["drift_categories"]["feature"]) == set(churn_columns["categorical"])
    assert "psi.calibrated_probability" in outputs["drift_mlflow_metrics"]
    assert set(catalog_config("drift_monitoring", tmp_path)) == pipeline.all_outputs()

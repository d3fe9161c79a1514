import pandas as pd
from matplotlib.figure import Figure

from ga4_mlops.pipelines.model_evaluation import create_pipeline

from .mlflow_catalog import catalog_config, parameters, run_in_memory
from .test_nodes import (
    test_predictions as test_predictions,  # a fixture, shared with the node tests
)


def test_pipeline_runs_on_the_yaml_parameters(tmp_path, test_predictions, churn_columns):
    pipeline = create_pipeline()
    outputs = run_in_memory(
        pipeline,
        {
            "test_predictions": test_predictions,
            "params:model_input.columns": churn_columns,
            "params:model_evaluation": parameters("model_evaluation", tmp_path),
        },
    )
    assert isinstance(outputs["evaluation_metrics"], pd.DataFrame)
    assert len(outputs["evaluation_metrics"]) == 3
    assert "model_calibrated.capture_at_10pct" in outputs["evaluation_mlflow_metrics"]
    plots = {name for name in outputs if name.endswith("_plot")}
    assert len(plots) == 4 and all(isinstance(outputs[name], Figure) for name in plots)
    # Every output is persisted, and the catalog file declares nothing else.
    assert set(catalog_config("model_evaluation", tmp_path)) == pipeline.all_outputs()

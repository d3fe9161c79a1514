import pandas as pd
from matplotlib.figure import Figure

from ga4_mlops.pipelines.model_explanation import create_pipeline

from ..model_evaluation.mlflow_catalog import catalog_config, parameters, run_in_memory
from .test_nodes import (
    model_and_features as model_and_features,  # a fixture, shared with the node tests
)


def test_pipeline_runs_on_the_yaml_parameters(tmp_path, model_and_features):
    model, features = model_and_features
    params = parameters("model_explanation", tmp_path)
    assert params["seed"] == 42  # ${globals:seed}
    pipeline = create_pipeline()
    outputs = run_in_memory(
        pipeline,
        {"model": model, "test_features": features, "params:model_explanation": params},
    )
    assert len(outputs["shap_values"]) == min(len(features), params["max_rows"])
    assert isinstance(outputs["shap_importance"], pd.DataFrame)
    assert isinstance(outputs["shap_summary_plot"], Figure)
    dependence = outputs["shap_dependence_plots"]
    n_features = features.shape[1]
    assert len(dependence) == min(params["top_n_dependence"], n_features)
    assert all(isinstance(figure, Figure) for figure in dependence.values())
    # The SHAP values and their sample stay in memory; every report is persisted.
    persisted = pipeline.all_outputs() - {"shap_values", "shap_feature_sample"}
    assert set(catalog_config("model_explanation", tmp_path)) == persisted

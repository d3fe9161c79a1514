import pandas as pd

from ga4_mlops.pipelines.model_explanation.nodes import (
    compute_shap_values,
    plot_shap_dependence,
    plot_shap_summary,
    shap_importance,
)

from ..model_evaluation.mlflow_catalog import (
    artifact_paths,
    local_version,
    run_with_catalog,
)
from .test_nodes import PARAMS
from .test_nodes import (
    model_and_features as model_and_features,
)  # a fixture, shared with the node tests


def test_outputs_are_saved_versioned_and_logged_to_mlflow(
    tmp_path, monkeypatch, model_and_features
):
    model, features = model_and_features
    values, sample = compute_shap_values(model, features, PARAMS)
    importance = shap_importance(values)
    dependence = plot_shap_dependence(values, sample, importance, PARAMS)
    with run_with_catalog("model_explanation", tmp_path, monkeypatch) as (catalog, run_id):
        catalog.save("shap_importance", importance)
        catalog.save("shap_summary_plot", plot_shap_summary(values, sample, PARAMS))
        catalog.save("shap_dependence_plots", dependence)
        reloaded = catalog.load("shap_importance")

    pd.testing.assert_frame_equal(reloaded, importance)
    folder = local_version(tmp_path, "data/08_reporting/shap_dependence_plots")
    assert sorted(path.name for path in folder.iterdir()) == sorted(dependence)
    assert artifact_paths(tmp_path, run_id) == {
        "explanation/shap_importance.csv",
        "explanation/shap_summary_plot.png",
        *(f"explanation/shap_dependence_plots/{name}" for name in dependence),
    }

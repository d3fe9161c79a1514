"""SHAP values of a test sample, their importance table, beeswarm and dependence plots."""

from kedro.pipeline import Node, Pipeline

from .nodes import compute_shap_values, plot_shap_dependence, plot_shap_summary, shap_importance

PARAMS = "params:model_explanation"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=compute_shap_values,
                inputs=["model", "test_features", PARAMS],
                outputs=["shap_values", "shap_feature_sample"],
                name="compute_shap_values",
            ),
            Node(
                func=shap_importance,
                inputs="shap_values",
                outputs="shap_importance",
                name="rank_shap_importance",
            ),
            Node(
                func=plot_shap_summary,
                inputs=["shap_values", "shap_feature_sample", PARAMS],
                outputs="shap_summary_plot",
                name="plot_shap_summary",
            ),
            Node(
                func=plot_shap_dependence,
                inputs=["shap_values", "shap_feature_sample", "shap_importance", PARAMS],
                outputs="shap_dependence_plots",
                name="plot_shap_dependence",
            ),
        ]
    )

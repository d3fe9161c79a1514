"""Banking models on the typed Santander tables of ``banking_data``
(conf/base/catalog_banking_models.yml): lag features, LightGBM tuned on the validation month
and refit for the test month, the MAP@7 report with bootstrap intervals and Kaggle's
submission, and the refit model registered in MLflow with its alias gated (registry.py).
``kedro run --pipelines=banking`` runs it after ``banking_data`` (``banking_end_to_end`` on
Kaggle's real files)."""

from kedro.pipeline import Node, Pipeline

from .gnn_nodes import (
    blend_test,
    predict_banking_gnn_test,
    refit_banking_gnn,
    tune_banking_blend,
    tune_banking_gnn,
)
from .nodes import (
    banking_submission,
    check_banking_scores,
    decide_banking_submission,
    predict_banking_test,
    refit_banking_lightgbm,
    refit_datasets,
    score_banking_models,
    tune_banking_lightgbm,
    validation_datasets,
)
from .registry import decide_banking_promotion, package_banking_model, score_banking_champion


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=validation_datasets,
                inputs=["santander_train", "params:banking_models"],
                outputs=["banking_validation_rows", "banking_validation_candidates"],
                name="banking_validation_features",
            ),
            Node(
                func=refit_datasets,
                inputs=["santander_train", "santander_test", "params:banking_models"],
                outputs=["banking_refit_rows", "banking_test_candidates"],
                name="banking_refit_features",
            ),
            Node(
                func=tune_banking_lightgbm,
                inputs=[
                    "banking_validation_rows",
                    "banking_validation_candidates",
                    "santander_train",
                    "params:banking_models",
                    "params:model_selection.tuning",
                ],
                outputs=[
                    "banking_lightgbm_params",
                    "banking_lightgbm_trials",
                    "banking_validation_predictions",
                ],
                name="tune_banking_lightgbm",
            ),
            Node(
                func=refit_banking_lightgbm,
                inputs=["banking_refit_rows", "banking_lightgbm_params", "params:banking_models"],
                outputs="banking_lightgbm_model",
                name="refit_banking_lightgbm",
            ),
            Node(
                func=predict_banking_test,
                inputs=[
                    "banking_lightgbm_model",
                    "banking_test_candidates",
                    "santander_train",
                    "santander_test",
                    "params:banking_models",
                ],
                outputs="banking_test_predictions",
                name="predict_banking_test",
            ),
            Node(
                func=tune_banking_gnn,
                inputs=[
                    "santander_train",
                    "params:banking_models",
                    "params:model_selection.tuning",
                ],
                outputs=[
                    "banking_gnn_params",
                    "banking_gnn_trials",
                    "banking_gnn_validation_predictions",
                ],
                name="tune_banking_gnn",
            ),
            Node(
                func=refit_banking_gnn,
                inputs=["santander_train", "banking_gnn_params", "params:banking_models"],
                outputs="banking_gnn_model",
                name="refit_banking_gnn",
            ),
            Node(
                func=predict_banking_gnn_test,
                inputs=[
                    "banking_gnn_model",
                    "santander_train",
                    "santander_test",
                    "params:banking_models",
                ],
                outputs="banking_gnn_test_predictions",
                name="predict_banking_gnn_test",
            ),
            Node(
                func=tune_banking_blend,
                inputs=[
                    "santander_train",
                    "banking_validation_predictions",
                    "banking_gnn_validation_predictions",
                    "params:banking_models",
                ],
                outputs=[
                    "banking_blend_weights",
                    "banking_blend_grid",
                    "banking_blend_validation_predictions",
                ],
                name="tune_banking_blend",
            ),
            Node(
                func=blend_test,
                inputs=[
                    "banking_test_predictions",
                    "banking_gnn_test_predictions",
                    "banking_blend_weights",
                    "params:banking_models",
                ],
                outputs="banking_blend_test_predictions",
                name="blend_banking_test",
            ),
            Node(
                func=decide_banking_submission,
                inputs=["banking_model_scores", "params:banking_models"],
                outputs="banking_submission_decision",
                name="decide_banking_submission",
            ),
            Node(
                func=banking_submission,
                inputs=[
                    "banking_submission_decision",
                    "banking_test_predictions",
                    "banking_gnn_test_predictions",
                    "banking_blend_test_predictions",
                    "santander_train",
                    "santander_test",
                    "params:banking_models",
                ],
                outputs="banking_submission",
                name="write_banking_submission",
            ),
            Node(
                func=score_banking_models,
                inputs=[
                    "santander_train",
                    "santander_test",
                    "santander_test_labels",
                    "santander_oracle",
                    "banking_validation_predictions",
                    "banking_test_predictions",
                    "banking_gnn_validation_predictions",
                    "banking_gnn_test_predictions",
                    "banking_blend_validation_predictions",
                    "banking_blend_test_predictions",
                    "params:banking_models",
                    "params:model_selection.bootstrap",
                ],
                outputs="banking_model_scores",
                name="score_banking_models",
            ),
            Node(
                func=check_banking_scores,
                inputs=["banking_model_scores", "params:banking_models"],
                outputs=None,
                name="check_banking_scores",
            ),
            Node(
                func=score_banking_champion,
                inputs=[
                    "banking_current_champion",
                    "banking_validation_candidates",
                    "santander_train",
                    "params:banking_models",
                ],
                outputs="banking_champion_valid_scores",
                name="score_banking_champion",
            ),
            Node(
                func=package_banking_model,
                inputs=[
                    "banking_lightgbm_model",
                    "banking_lightgbm_params",
                    "banking_validation_candidates",
                    "santander_train",
                    "params:banking_models",
                    "params:banking_models.registry",
                ],
                outputs=["banking_model", "banking_model_card"],
                name="package_banking_model",
            ),
            Node(
                func=decide_banking_promotion,
                inputs=[
                    "banking_model_card",
                    "banking_champion_valid_scores",
                    "banking_model_scores",
                    "params:banking_models.registry.quality_gate",
                ],
                outputs=["banking_champion_model", "banking_promotion_decision"],
                name="decide_banking_promotion",
            ),
        ]
    )

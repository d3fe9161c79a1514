"""Baseline, Optuna search, final LightGBM fit, calibration, test-set predictions."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    fit_calibrator,
    predict_test_set,
    train_baseline,
    train_lightgbm,
    tune_lightgbm,
)

COLUMNS = "params:model_input.columns"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=train_baseline,
                inputs=["train_features", "train_set", COLUMNS, "params:model_training.baseline"],
                outputs="baseline_model",
                name="train_baseline",
            ),
            Node(
                func=tune_lightgbm,
                inputs=[
                    "train_features",
                    "train_set",
                    "validation_features",
                    "validation_set",
                    COLUMNS,
                    "params:model_training.lightgbm",
                ],
                outputs=["lightgbm_hyperparameters", "optuna_trials"],
                name="tune_lightgbm",
            ),
            Node(
                func=train_lightgbm,
                inputs=[
                    "train_features",
                    "train_set",
                    COLUMNS,
                    "lightgbm_hyperparameters",
                    "validation_features",
                    "validation_set",
                ],
                outputs="lightgbm_model",
                name="train_lightgbm",
            ),
            Node(
                func=fit_calibrator,
                inputs=[
                    "lightgbm_model",
                    "calibration_features",
                    "calibration_set",
                    COLUMNS,
                    "params:model_training.calibration",
                ],
                outputs=["calibrator", "calibration_selection", "calibration_mlflow_metrics"],
                name="fit_calibrator",
            ),
            Node(
                func=predict_test_set,
                inputs=[
                    "test_set",
                    "test_features",
                    "baseline_model",
                    "lightgbm_model",
                    "calibrator",
                    COLUMNS,
                ],
                outputs="test_predictions",
                name="predict_test_set",
            ),
        ]
    )

"""Baseline, Optuna search, final LightGBM fit, calibration, test-set predictions."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    fit_calibrator,
    predict_test_set,
    train_baseline,
    train_model,
    tune_hyperparameters,
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
                func=tune_hyperparameters,
                inputs=[
                    "train_features",
                    "train_set",
                    "validation_features",
                    "validation_set",
                    COLUMNS,
                    "params:model_training.model",
                ],
                outputs=["tuned_hyperparameters", "optuna_trials"],
                name="tune_hyperparameters",
            ),
            Node(
                func=train_model,
                inputs=[
                    "train_features",
                    "train_set",
                    COLUMNS,
                    "tuned_hyperparameters",
                    "params:model_training.model",
                    "validation_features",
                    "validation_set",
                ],
                outputs="model",
                name="train_model",
            ),
            Node(
                func=fit_calibrator,
                inputs=[
                    "model",
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
                    "model",
                    "calibrator",
                    COLUMNS,
                ],
                outputs="test_predictions",
                name="predict_test_set",
            ),
        ]
    )

"""The whole scoring path (preprocessing, LightGBM, calibrator) as one MLflow pyfunc model.

Registering one object means batch scoring, ``mlflow models serve`` and any other consumer
run exactly the code and state that were evaluated, loaded by name and alias.
"""

import logging
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer

from ga4_mlops.checks import require_columns
from ga4_mlops.pipelines.model_training.nodes import calibration_method
from ga4_mlops.problem_types import BINARY, MULTICLASS, class_labels, problem_type
from ga4_mlops.scoring_model import PropensityModel

logger = logging.getLogger(__name__)

INPUT_EXAMPLE_ROWS = 5


def package_model(
    preprocessor: ColumnTransformer,
    classifier: BaseEstimator,
    calibrator: BaseEstimator,
    tuned_hyperparameters: dict[str, Any],
    evaluation_metrics: pd.DataFrame,
    columns: dict[str, Any],
    splits: dict[str, Any],
    example_rows: pd.DataFrame,
    promotion_decision: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Bundle the scoring path with an input example, and describe it in a model card.

    The example (a few rows of the model's input columns, numbers as floats so a request
    may carry missing values) gives the registered model its signature: MLflow then refuses
    a request that lacks a column, by name. The card travels with the run (and is what the
    promotion gate reads), so the decision is made only after the model itself has been
    saved and registered. The card carries the quality gate's decision (promotion_decision),
    which ``apply_promotion`` then hands to the alias.

    ``classifier`` and ``calibrator`` are the training pipeline's ``model`` and ``calibrator``:
    for ``problem_type`` ``regression`` a regressor and a calibrator with ``predict`` (the
    served model then outputs ``raw_prediction`` and ``calibrated_prediction``). A regression
    or multiclass card also names its ``problem_type`` (multiclass: and its ``classes``); a
    binary card is as it always was.
    """
    kind = problem_type(columns)
    feature_columns = [*columns["numeric"], *columns["categorical"]]
    require_columns(example_rows, feature_columns, "input example rows")
    input_example = example_rows[feature_columns].head(INPUT_EXAMPLE_ROWS).reset_index(drop=True)
    input_example = input_example.astype(dict.fromkeys(columns["numeric"], "float64"))
    metrics = _metrics_by_model(evaluation_metrics)
    model_card = {
        "input_columns": {
            "numeric": list(columns["numeric"]),
            "categorical": list(columns["categorical"]),
        },
        "encoded_columns": list(preprocessor.get_feature_names_out()),
        "target": columns["target"],
        "splits": splits,
        "tuned_hyperparameters": tuned_hyperparameters,
        "calibration_method": calibration_method(calibrator),
        "test_metrics": metrics,
        # The quality gate's decision with both models' figures (model_registry/gate.py).
        "promotion": promotion_decision,
    }
    classes = class_labels(columns) if kind == MULTICLASS else None
    if kind != BINARY:
        model_card = {"problem_type": kind, **model_card}
    if classes:
        model_card = {**model_card, "classes": classes}
    model = PropensityModel(
        preprocessor, classifier, calibrator, problem_type=kind, classes=classes
    )
    return {"python_model": model, "input_example": input_example}, model_card


def _metrics_by_model(evaluation_metrics: pd.DataFrame) -> dict[str, dict[str, float]]:
    table = (
        evaluation_metrics.set_index("model")
        if "model" in evaluation_metrics
        else evaluation_metrics
    )
    return {
        str(model): {metric: float(value) for metric, value in row.items()}
        for model, row in table.iterrows()
    }

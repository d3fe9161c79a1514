"""The evaluation nodes' ``problem_type: multiclass`` branch: column selection and dispatch.

``params model_evaluation.models`` maps a model name to a role prefix (``baseline``,
``raw``, ``calibrated``) whose K columns in ``test_predictions`` are
``class_score_columns(role, columns)``; the target holds class labels of
``columns.classes``. The metrics are ``multiclass_metrics.py``, the plots
``multiclass_plots.py``; each function here is the body of the node of the same name.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ga4_mlops.problem_types import class_labels, class_score_columns, target_values

from . import multiclass_plots
from .multiclass_metrics import DEFAULT_TOP_K, multiclass_report
from .regression_metrics import report_mlflow_metrics

DATASET = "dataset 'test_predictions'"


def probabilities_by_model(
    test_predictions: pd.DataFrame, columns: Mapping[str, Any], models: Mapping[str, str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Class positions of the target and one [n, K] probability array per model.

    Errors name the dataset and the missing columns, or the labels outside the classes.
    """
    target = columns["target"]
    required = {name: class_score_columns(role, columns) for name, role in models.items()}
    missing = [
        column
        for column in [target, *(c for cols in required.values() for c in cols)]
        if column not in test_predictions.columns
    ]
    if missing:
        raise ValueError(
            f"{DATASET} lacks column(s) {missing}: expected the target '{target}' and, per "
            f"model of params model_evaluation.models {dict(models)}, the class probability "
            "columns <role>_probability_<class> (class_score_columns)"
        )
    if test_predictions[target].isna().any():
        raise ValueError(
            f"{DATASET} column '{target}' has missing labels: the test split must be fully labelled"
        )
    with _naming_dataset():
        codes = target_values(test_predictions, columns)
    return codes, {
        name: test_predictions[cols].to_numpy(dtype="float64") for name, cols in required.items()
    }


def _inputs(
    test_predictions: pd.DataFrame, columns: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
    codes, probabilities = probabilities_by_model(test_predictions, columns, params["models"])
    return codes, probabilities, class_labels(columns)


@contextmanager
def _naming_dataset() -> Iterator[None]:
    """A metric's or plot's ValueError, prefixed with the dataset it came from."""
    try:
        yield
    except ValueError as error:
        raise ValueError(f"{DATASET}: {error}") from error


def evaluate_models(
    test_predictions: pd.DataFrame, columns: Mapping[str, Any], params: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, dict[str, float | int]]]:
    """``multiclass_report`` (top-k from ``params.top_k``, default 1 and 3) and each of its
    columns as an MLflow metric ``<model>.<column>``."""
    codes, probabilities, names = _inputs(test_predictions, columns, params)
    with _naming_dataset():
        table = multiclass_report(
            codes,
            probabilities,
            names,
            top_k=params.get("top_k", DEFAULT_TOP_K),
            n_bins=params["n_bins"],
            strategy=params["calibration_strategy"],
        )
    return table, report_mlflow_metrics(table)


def calibration_plot(
    test_predictions: pd.DataFrame, columns: Mapping[str, Any], params: Mapping[str, Any]
) -> Figure:
    """A reliability diagram per class."""
    codes, probabilities, names = _inputs(test_predictions, columns, params)
    with _naming_dataset():
        return multiclass_plots.plot_class_reliability(
            codes, probabilities, names, params["n_bins"], params["calibration_strategy"]
        )


def roc_plot(
    test_predictions: pd.DataFrame, columns: Mapping[str, Any], params: Mapping[str, Any]
) -> Figure:
    """One-vs-rest ROC-AUC per class and model."""
    codes, probabilities, names = _inputs(test_predictions, columns, params)
    with _naming_dataset():
        return multiclass_plots.plot_one_vs_rest(codes, probabilities, names, "roc_auc")


def precision_recall_plot(
    test_predictions: pd.DataFrame, columns: Mapping[str, Any], params: Mapping[str, Any]
) -> Figure:
    """One-vs-rest average precision per class and model, beside each class's share."""
    codes, probabilities, names = _inputs(test_predictions, columns, params)
    with _naming_dataset():
        return multiclass_plots.plot_one_vs_rest(codes, probabilities, names, "average_precision")


def cumulative_gains_plot(
    test_predictions: pd.DataFrame, columns: Mapping[str, Any], params: Mapping[str, Any]
) -> Figure:
    """Top-k accuracy for k = 1..K: how many guesses until the true class is among them."""
    codes, probabilities, names = _inputs(test_predictions, columns, params)
    with _naming_dataset():
        return multiclass_plots.plot_top_k_accuracy(codes, probabilities, names)

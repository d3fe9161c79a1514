"""SHAP of a multiclass classifier (``problem_type: multiclass``): one explanation per class.

A multiclass model has one output per class (LightGBM ``objective: multiclass``: the raw
scores a softmax turns into probabilities), so shap returns values of shape
[rows, features, classes]. The pipeline's datasets stay one value per row and feature:

* ``shap_values`` holds, per row, the SHAP values of the class the model predicts (the
  largest output): why the model chose that class. With the expected value of that class
  they add up to its output (``predicted_class_values``). The scale is named in
  ``attrs["model_output"]`` (the summary plot's title).
* ``shap_importance`` ranks features by mean |SHAP| summed over the classes: a feature that
  only separates two rare categories still counts, which the predicted class's values (mostly
  the frequent class) would hide. The per-class means travel in
  ``attrs["mean_abs_shap_by_class"]`` and become one column per class
  (``importance_by_class``).

A classifier shap cannot read as trees is explained by shap's model-agnostic explainer on
``log(predict_proba)`` per class (``log_probabilities``).
"""

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ga4_mlops.problem_types import class_slug

# What multiclass SHAP values add up to (attrs["model_output"]): a boosted model's raw score
# (the softmax's input), a scikit-learn forest's probability, or the model-agnostic log.
TREE_OUTPUT = "raw score of the predicted class"
FOREST_OUTPUT = "probability of the predicted class"
LOG_PROBABILITY_OUTPUT = "log probability of the predicted class"
BY_CLASS = "mean_abs_shap_by_class"
# Probabilities are clipped to this before their log, for the model-agnostic explainer.
MIN_PROBABILITY = 1e-12


def is_multiclass(model: Any) -> bool:
    """A classifier of more than two classes (two classes are explained as binary)."""
    return len(getattr(model, "classes_", ())) > 2


def output_name(model: Any, tree: bool) -> str:
    """The scale shap explains: boosted trees (LightGBM ``booster_``, XGBoost
    ``get_booster``) their raw score, other trees (scikit-learn forests) the probability."""
    if not tree:
        return LOG_PROBABILITY_OUTPUT
    boosted = hasattr(model, "booster_") or hasattr(model, "get_booster")
    return TREE_OUTPUT if boosted else FOREST_OUTPUT


def log_probabilities(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """``log(predict_proba)`` as an [n, K] function of a numpy array, for shap."""

    def log_probability(rows: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(rows, columns=model.feature_names_in_)
        return np.log(np.clip(model.predict_proba(frame), MIN_PROBABILITY, None))

    return log_probability


def predicted_class_values(
    model: Any,
    features: pd.DataFrame,
    values: np.ndarray,
    base_values: np.ndarray,
    output: str = TREE_OUTPUT,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The SHAP values of each row's predicted class, and that class's expected value per row.

    ``values`` [n, F, K] and ``base_values`` ([n, K] or [K]) are shap's; the predicted class
    is the largest explained output (``values.sum(features) + base``: the argmax of the
    probabilities, the softmax being monotonic). The frame's attrs record ``output``
    (``model_output``) and the mean |SHAP| per class and feature (``BY_CLASS``).
    """
    n_rows, n_features, n_classes = values.shape
    if n_features != features.shape[1] or n_classes != len(model.classes_):
        raise ValueError(
            f"SHAP values of shape {values.shape} do not match {features.shape[1]} features "
            f"and the model's {len(model.classes_)} classes"
        )
    base = np.broadcast_to(np.asarray(base_values, dtype="float64"), (n_rows, n_classes))
    predicted = np.argmax(values.sum(axis=1) + base, axis=1)
    rows = np.arange(n_rows)
    frame = pd.DataFrame(values[rows, :, predicted], index=features.index, columns=features.columns)
    mean_abs = np.abs(values).mean(axis=0)  # [F, K]
    frame.attrs["model_output"] = output
    frame.attrs[BY_CLASS] = {
        str(label): dict(zip(features.columns, map(float, mean_abs[:, k]), strict=True))
        for k, label in enumerate(model.classes_)
    }
    return frame, base[rows, predicted]


def importance_by_class(by_class: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """``feature``, ``mean_abs_shap`` (summed over classes) and ``mean_abs_shap_<class>``
    per class (``class_slug`` of the model's class), from ``attrs[BY_CLASS]``; unranked."""
    per_class = pd.DataFrame(
        {f"mean_abs_shap_{class_slug(label)}": means for label, means in by_class.items()}
    )
    table = per_class.rename_axis("feature").reset_index()
    table.insert(1, "mean_abs_shap", per_class.sum(axis=1).to_numpy())
    return table

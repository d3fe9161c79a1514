"""What the target is, read from ``model_input.columns.problem_type``: one name for every node.

``binary``: a 0/1 label, models score a probability (purchase, churn). ``regression``: an
amount >= 0, models predict its expectation (GA4's predicted revenue). ``multiclass``: one
label of ``model_input.columns.classes`` per row (the category of the next purchase, with a
class for "no purchase"), models score one probability per class. Training, evaluation,
calibration, explanation, the registry and scoring all follow this setting, so another
problem type is configuration (``conf/revenue``, ``conf/multiclass``), not code. Plain
Python (no Kedro): the served model (``scoring_model.py``) reads it too.
"""

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

BINARY, REGRESSION, MULTICLASS = "binary", "regression", "multiclass"
PROBLEM_TYPES = (BINARY, REGRESSION, MULTICLASS)

# The score columns of test_predictions and of the served model: ``<role>_<suffix>`` with
# role baseline, raw or calibrated (``score_column``).
# Multiclass: one column per class, ``<role>_probability_<slug>`` (``class_score_columns``).
SCORE_SUFFIX = {BINARY: "probability", REGRESSION: "prediction", MULTICLASS: "probability"}


def problem_type(columns: Mapping[str, Any]) -> str:
    """The configured problem type; ``binary`` when the key is absent."""
    value = columns.get("problem_type", BINARY)
    if value not in PROBLEM_TYPES:
        raise ValueError(
            f"params model_input.columns.problem_type must be one of {list(PROBLEM_TYPES)}, "
            f"got {value!r}"
        )
    return value


def score_column(role: str, kind: str) -> str:
    """``baseline_probability``, ``calibrated_prediction``, ...: the column of a model's score."""
    return f"{role}_{SCORE_SUFFIX[kind]}"


def class_labels(columns: Mapping[str, Any]) -> list[str]:
    """``columns.classes``: the multiclass labels in a fixed order (the order of every
    probability column); at least two distinct strings with distinct slugs."""
    labels = columns.get("classes")
    if (
        not isinstance(labels, list | tuple)
        or len(labels) < 2
        or not all(isinstance(label, str) and label for label in labels)
        or len({class_slug(label) for label in labels}) != len(labels)
    ):
        raise ValueError(
            "params model_input.columns.classes must list at least two distinct class labels "
            f"(strings whose names stay distinct in column names) for problem_type multiclass, "
            f"got {labels!r}"
        )
    return list(labels)


def class_slug(label: str) -> str:
    """A class label as a column-name part: ``(none)`` -> ``none``, ``Campus Collection``
    -> ``campus_collection``."""
    return re.sub(r"[^0-9a-z]+", "_", label.lower()).strip("_") or "class"


def class_score_columns(role: str, columns: Mapping[str, Any]) -> list[str]:
    """``<role>_probability_<slug>`` per class, in ``columns.classes`` order."""
    return [f"{role}_probability_{class_slug(label)}" for label in class_labels(columns)]


def target_values(data: pd.DataFrame, columns: Mapping[str, Any]) -> np.ndarray:
    """The target as the models read it: int64 0/1 (binary), float64 amounts (regression) or
    int64 positions in ``columns.classes`` (multiclass; a value outside the list is refused)."""
    kind, target = problem_type(columns), columns["target"]
    if kind == MULTICLASS:
        labels = class_labels(columns)
        codes = pd.Categorical(data[target], categories=labels).codes.astype("int64")
        unknown = data[target][codes < 0].astype(str)
        if len(unknown):
            raise ValueError(
                f"column {target!r} holds {len(unknown)} value(s) outside params "
                f"model_input.columns.classes {labels}, e.g. {unknown.unique()[:5].tolist()}"
            )
        return codes
    dtype = "int64" if kind == BINARY else "float64"
    return data[target].to_numpy(dtype=dtype)

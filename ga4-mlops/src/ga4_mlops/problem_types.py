"""What the target is, read from ``model_input.columns.problem_type``: one name for every node.

``binary``: a 0/1 label, models score a probability (purchase, churn). ``regression``: an
amount >= 0, models predict its expectation (GA4's predicted revenue). Training, evaluation,
calibration, explanation, the registry and scoring all follow this setting, so another
problem type is configuration (``conf/revenue``), not code. Plain Python (no Kedro): the
served model (``scoring_model.py``) reads it too.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

BINARY, REGRESSION = "binary", "regression"
PROBLEM_TYPES = (BINARY, REGRESSION)

# The score columns of test_predictions and of the served model: ``<role>_<suffix>`` with
# role baseline, raw or calibrated (``score_column``).
SCORE_SUFFIX = {BINARY: "probability", REGRESSION: "prediction"}


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


def target_values(data: pd.DataFrame, columns: Mapping[str, Any]) -> np.ndarray:
    """The target as the models read it: int64 0/1 (binary) or float64 amounts (regression)."""
    dtype = "int64" if problem_type(columns) == BINARY else "float64"
    return data[columns["target"]].to_numpy(dtype=dtype)

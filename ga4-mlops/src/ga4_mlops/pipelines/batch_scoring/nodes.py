"""Batch scores from the registered champion model, loaded by name and alias."""

from typing import Any

import numpy as np
import pandas as pd

from ga4_mlops.checks import require_columns
from ga4_mlops.datasets.mlflow_model_alias_dataset import RegisteredModel
from ga4_mlops.problem_types import MULTICLASS, class_score_columns, problem_type, score_column


def score_rows(
    champion_model: RegisteredModel, rows: pd.DataFrame, columns: dict[str, Any]
) -> pd.DataFrame:
    """Scores, decile (1 = the highest 10%) and model version per row.

    The score columns are the served model's: ``raw_probability`` and
    ``calibrated_probability`` (``problem_type`` binary), ``raw_prediction`` and
    ``calibrated_prediction`` (regression: predicted revenue). Ids pass through untouched (a
    GA4 ``user_pseudo_id`` stays a string). Deciles rank by calibrated then raw score and
    break remaining ties by row order: reproducible. Multiclass: each class's raw and
    calibrated probability and ``predicted_class`` (no decile: there is no one score to rank).
    """
    kind = problem_type(columns)
    input_columns = [*columns["numeric"], *columns["categorical"]]
    predictions = champion_model.model.predict(rows[input_columns])
    if kind == MULTICLASS:
        served = [
            *class_score_columns("raw", columns),
            *class_score_columns("calibrated", columns),
            "predicted_class",
        ]
    else:
        raw, calibrated = score_column("raw", kind), score_column("calibrated", kind)
        served = [raw, calibrated]
    require_columns(
        predictions,
        served,
        f"the output of model {champion_model.name} version {champion_model.version}",
        hint=f" (params model_input.columns.problem_type is {kind!r}: a model for another "
        "problem type needs its own registered name, globals registered_model.name)",
    )
    scores = rows[list(columns["id"])].copy()
    if kind == MULTICLASS:
        for column in served:
            scores[column] = predictions[column].to_numpy()
        scores["model_name"] = champion_model.name
        scores["model_version"] = champion_model.version
        return scores
    scores[raw] = predictions[raw].to_numpy()
    scores[calibrated] = predictions[calibrated].to_numpy()
    order = np.lexsort(
        (
            np.arange(len(scores)),
            -scores[raw].to_numpy(),
            -scores[calibrated].to_numpy(),
        )
    )
    rank = np.empty(len(scores), dtype="int64")
    rank[order] = np.arange(len(scores))
    scores["decile"] = (rank * 10 // max(len(scores), 1) + 1).astype("int64")
    scores["model_name"] = champion_model.name
    scores["model_version"] = champion_model.version
    return scores

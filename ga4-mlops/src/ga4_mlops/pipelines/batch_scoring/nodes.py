"""Batch scores from the registered champion model, loaded by name and alias."""

from typing import Any

import numpy as np
import pandas as pd

from ga4_mlops.datasets.mlflow_model_alias_dataset import RegisteredModel


def score_rows(
    champion_model: RegisteredModel, rows: pd.DataFrame, columns: dict[str, Any]
) -> pd.DataFrame:
    """Probabilities, decile (1 = the most likely 10%) and model version per row.

    Ids pass through untouched (a GA4 ``user_pseudo_id`` stays a string). Deciles rank by
    calibrated then raw probability and break remaining ties by row order: reproducible.
    """
    input_columns = [*columns["numeric"], *columns["categorical"]]
    predictions = champion_model.model.predict(rows[input_columns])
    scores = rows[list(columns["id"])].copy()
    scores["raw_probability"] = predictions["raw_probability"].to_numpy()
    scores["calibrated_probability"] = predictions["calibrated_probability"].to_numpy()
    order = np.lexsort(
        (
            np.arange(len(scores)),
            -scores["raw_probability"].to_numpy(),
            -scores["calibrated_probability"].to_numpy(),
        )
    )
    rank = np.empty(len(scores), dtype="int64")
    rank[order] = np.arange(len(scores))
    scores["decile"] = (rank * 10 // max(len(scores), 1) + 1).astype("int64")
    scores["model_name"] = champion_model.name
    scores["model_version"] = champion_model.version
    return scores

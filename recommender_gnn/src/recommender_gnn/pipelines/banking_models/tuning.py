"""The shared Optuna tuning (model_selection.tuning: the same trial budget as every model) for
a banking model scored by one number, validation MAP@k."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.model_selection.tuning import tune

OTTO_COLUMNS = ["clicks", "carts", "orders"]  # tune() records OTTO's per-type recalls


def tune_on_map(
    name: str,
    evaluate: Callable[[dict[str, Any], Callable], tuple[float, int, pd.DataFrame]],
    params: dict[str, Any],
    tuning: dict[str, Any],
    length_column: str,
) -> tuple[dict[str, Any], pd.DataFrame, int, pd.DataFrame]:
    """(chosen parameters, one row per trial with ``map_all`` and ``length_column``, the
    chosen trial's length, its validation ranking) for ``evaluate(trial params, report) ->
    (validation MAP@k, training length kept: rounds or epochs, the ranking at that length)``."""
    trials: list[tuple[int, pd.DataFrame]] = []

    def scored(trial_params: dict[str, Any], report: Callable) -> dict[str, Any]:
        value, length, ranking = evaluate(trial_params, report)
        trials.append((int(length), ranking))
        return {"score": float(value), **dict.fromkeys(OTTO_COLUMNS, float("nan")), "policy": {}}

    chosen, table = tune(name, scored, params, tuning)
    table = table.drop(columns=OTTO_COLUMNS).rename(columns={"score": "map_all"})
    table.insert(1, length_column, [length for length, _ in trials])
    best = int(np.flatnonzero(table["chosen"].to_numpy())[0])
    return chosen, table, trials[best][0], trials[best][1]

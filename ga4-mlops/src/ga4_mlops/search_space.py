"""One Optuna search-space format for every blueprint's tuning. Kit file.

A ``search_space`` in the parameters maps each hyperparameter to how a trial draws it:

    num_leaves: {type: int, low: 7, high: 63}                   # trial.suggest_int
    reg_lambda: {type: float, low: 0.001, high: 10.0, log: true}  # trial.suggest_float
    embedding_dim: {type: categorical, choices: [64, 128]}      # trial.suggest_categorical

``log`` (int and float only) is optional, false by default. The names are drawn in the order
they are written, which with a seeded sampler fixes every trial's values.
"""

from __future__ import annotations

from typing import Any

import optuna

RANGE_KEYS = ("low", "high")
TYPES = "int, float or categorical"


def suggest(
    trial: optuna.Trial, search_space: dict[str, dict[str, Any]], where: str
) -> dict[str, Any]:
    """One value per name of ``search_space``, drawn by ``trial`` in the order written.

    ``where`` is the parameters' path to the search space's parent (``model_training``,
    ``baselines.sknn``), so that an error names ``params <where>.search_space.<name>``.
    """
    values = {}
    for name, space in search_space.items():
        at = f"params {where}.search_space.{name}"
        kind = space.get("type") if isinstance(space, dict) else None
        if kind in ("int", "float"):
            missing = [key for key in RANGE_KEYS if key not in space]
            if missing:
                raise ValueError(
                    f"{at}: type {kind} needs low and high (and optionally log), "
                    f"missing {', '.join(missing)}"
                )
            log = bool(space.get("log", False))
            if kind == "int":
                values[name] = trial.suggest_int(
                    name, int(space["low"]), int(space["high"]), log=log
                )
            else:
                values[name] = trial.suggest_float(
                    name, float(space["low"]), float(space["high"]), log=log
                )
        elif kind == "categorical":
            if "choices" not in space:
                raise ValueError(f"{at}: type categorical needs choices, a list of values")
            values[name] = trial.suggest_categorical(name, list(space["choices"]))
        else:
            got = space.get("type") if isinstance(space, dict) else space
            raise ValueError(
                f"{at}: type must be {TYPES} ({{type: int, low: 1, high: 9, log: false}}), "
                f"got {got!r}"
            )
    return values

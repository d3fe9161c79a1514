"""Input checks shared by nodes: failures name the dataset, the columns, the expectation."""

from collections.abc import Iterable

import pandas as pd


def require_columns(
    data: pd.DataFrame, required: Iterable[str], dataset: str, role: str = "", hint: str = ""
) -> None:
    """Raise a ValueError naming the missing columns (``role``: e.g. "categorical")."""
    missing = [column for column in required if column not in data.columns]
    if missing:
        kind = f"{role} column(s)" if role else "column(s)"
        raise ValueError(f"{dataset} lacks {kind} {missing}{hint}; it has {sorted(data.columns)}")

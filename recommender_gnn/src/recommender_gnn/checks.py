"""Input checks shared by nodes: failures name the dataset, the columns, the expectation."""

from collections.abc import Iterable

import pandas as pd


def require_columns(
    data: pd.DataFrame, required: Iterable[str], dataset: str, hint: str = ""
) -> None:
    """Raise a ValueError naming the missing columns of ``dataset``."""
    missing = [column for column in required if column not in data.columns]
    if missing:
        raise ValueError(
            f"{dataset} lacks column(s) {missing}{hint}; it has {sorted(data.columns)}"
        )

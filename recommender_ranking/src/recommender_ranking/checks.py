"""Input checks shared by the pipelines and the served model (pandas only, no Kedro)."""

import pandas as pd


def require_columns(data: pd.DataFrame, columns: list[str], dataset: str) -> None:
    """Stop with a message naming the dataset and the columns it lacks."""
    missing = [column for column in columns if column not in data.columns]
    if missing:
        raise ValueError(
            f"{dataset} lacks column(s) {missing}; expected at least {columns}, "
            f"got {list(data.columns)}"
        )

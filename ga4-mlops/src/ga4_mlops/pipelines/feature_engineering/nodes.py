"""Fit imputation and encoding on train only (the splits themselves: ``splits.py``).

Nothing here knows GA4: column roles come from ``params:model_input.columns``, so the same
nodes serve any binary tabular problem (churn, default) whose table has a date column.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ga4_mlops.checks import require_columns

from .splits import split_model_input

# The split node's former name, still imported by tests of later pipelines.
split_by_date = split_model_input

logger = logging.getLogger(__name__)

MISSING_CODE = 0
OTHER_CODE = 1  # rare in train, or never seen in train
FIRST_CATEGORY_CODE = 2


def feature_columns(columns: dict[str, Any]) -> list[str]:
    """The model's input columns in a fixed order: numeric first, then categorical."""
    return [*columns["numeric"], *columns["categorical"]]


@dataclass
class TabularPreprocessor:
    """Median imputation and integer codes for categories, learned from train only.

    Codes: 0 missing, 1 rare-or-unseen, 2.. the categories seen at least
    ``min_category_count`` times in train. Output is all float64 so it travels through
    MLflow serving and SHAP unchanged.
    """

    numeric_columns: list[str]
    categorical_columns: list[str]
    medians: dict[str, float] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    indicator_columns: list[str] = field(default_factory=list)

    @property
    def output_columns(self) -> list[str]:
        return [
            *self.numeric_columns,
            *[f"{column}__missing" for column in self.indicator_columns],
            *self.categorical_columns,
        ]

    def fit(self, data: pd.DataFrame, min_category_count: int) -> "TabularPreprocessor":
        require_columns(data, self.numeric_columns + self.categorical_columns, "train_set")
        for column in self.numeric_columns:
            values = pd.to_numeric(data[column], errors="raise").astype("float64")
            median = values.median()
            self.medians[column] = 0.0 if np.isnan(median) else float(median)
            if values.isna().any():
                self.indicator_columns.append(column)
        for column in self.categorical_columns:
            counts = data[column].dropna().astype(str).value_counts()
            kept = counts[counts >= min_category_count]
            # order by frequency then name, so codes do not depend on row order
            self.categories[column] = sorted(kept.index, key=lambda c: (-kept[c], c))
        return self

    def transform(self, data: pd.DataFrame, dataset: str = "input") -> pd.DataFrame:
        require_columns(data, self.numeric_columns + self.categorical_columns, dataset)
        encoded = {}
        for column in self.numeric_columns:
            try:
                values = pd.to_numeric(data[column], errors="raise").astype("float64")
            except (TypeError, ValueError) as error:
                raise ValueError(f"{dataset} column '{column}' must be numeric: {error}") from error
            encoded[column] = values.fillna(self.medians[column]).to_numpy()
        for column in self.indicator_columns:
            encoded[f"{column}__missing"] = data[column].isna().to_numpy(dtype="float64")
        for column in self.categorical_columns:
            codes = {
                category: FIRST_CATEGORY_CODE + i
                for i, category in enumerate(self.categories[column])
            }
            values = data[column]
            mapped = values.astype("string").map(codes)
            unseen = values.notna() & mapped.isna()
            if unseen.any():
                logger.info(
                    "%s column '%s': %d rows with categories rare or unseen in train",
                    dataset,
                    column,
                    int(unseen.sum()),
                )
            encoded[column] = (
                mapped.fillna(OTHER_CODE).where(values.notna(), MISSING_CODE).to_numpy("float64")
            )
        return pd.DataFrame(encoded, index=data.index)[self.output_columns]


def fit_preprocessor(
    train_set: pd.DataFrame, columns: dict[str, Any], params: dict[str, Any]
) -> TabularPreprocessor:
    """Learn imputation values and category codes from the train split only."""
    return TabularPreprocessor(
        numeric_columns=list(columns["numeric"]),
        categorical_columns=list(columns["categorical"]),
    ).fit(train_set, min_category_count=params["min_category_count"])


def encode_features(
    preprocessor: TabularPreprocessor, data: pd.DataFrame, split: str = "input"
) -> pd.DataFrame:
    """Apply the train-fitted preprocessing to any split (named in error messages)."""
    return preprocessor.transform(data, dataset=f"{split}_set")

"""Split the model-input table by date and fit imputation and encoding on train only.

Nothing here knows GA4: column roles come from ``params:model_input.columns``, so the same
nodes serve any binary tabular problem (churn, default) whose table has a date column.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ga4_mlops.checks import require_columns

logger = logging.getLogger(__name__)

MISSING_CODE = 0
OTHER_CODE = 1  # rare in train, or never seen in train
FIRST_CATEGORY_CODE = 2
SPLIT_NAMES = ("train", "validation", "calibration", "test", "scoring")


def feature_columns(columns: dict[str, Any]) -> list[str]:
    """The model's input columns in a fixed order: numeric first, then categorical."""
    return [*columns["numeric"], *columns["categorical"]]


def split_by_date(
    model_input_table: pd.DataFrame, columns: dict[str, Any], splits: dict[str, list[str]]
) -> tuple[pd.DataFrame, ...]:
    """Cut the table into train/validation/calibration/test/scoring by the date column.

    Splitting by time (never by row) is what keeps the evaluation honest: the model is
    tested on a later period than it learned from, as it will be used.
    """
    date_column, target = columns["date"], columns["target"]
    require_columns(
        model_input_table,
        [*columns["id"], date_column, target, *feature_columns(columns)],
        "model_input_table",
        hint=" declared in params model_input.columns",
    )
    unknown = set(splits) - set(SPLIT_NAMES)
    if unknown:
        raise ValueError(f"params model_input.splits has unknown split(s) {sorted(unknown)}")
    dates = pd.to_datetime(model_input_table[date_column]).dt.normalize()
    parts = []
    for split_name in SPLIT_NAMES:
        split_dates = pd.to_datetime(pd.Series(splits.get(split_name, []), dtype="object"))
        part = model_input_table.loc[dates.isin(split_dates)].reset_index(drop=True)
        if part.empty:
            raise ValueError(
                f"model_input_table has no rows with {date_column} in split '{split_name}' "
                f"({[str(d.date()) for d in split_dates]}); it has dates "
                f"{sorted({str(d.date()) for d in dates.unique()})}"
            )
        if split_name != "scoring":
            labels = part[target]
            if labels.isna().any():
                raise ValueError(
                    f"model_input_table column '{target}' is missing for {labels.isna().sum()} "
                    f"rows of split '{split_name}': a labelled split needs its full horizon "
                    "inside the data"
                )
            if not set(labels.unique()) <= {0, 1}:
                raise ValueError(
                    f"model_input_table column '{target}' must hold 0/1 in split "
                    f"'{split_name}', found {sorted(labels.unique())[:5]}"
                )
            part[target] = labels.astype("int64")
        logger.info(
            "split %s: %d rows, positive rate %s",
            split_name,
            len(part),
            "n/a" if split_name == "scoring" else f"{part[target].mean():.4f}",
        )
        parts.append(part)
    train = parts[0]
    if train[target].nunique() < 2:
        raise ValueError(
            f"model_input_table column '{target}' has a single class in split 'train': "
            "the target event never (or always) occurs; check feature_query.target_event"
        )
    return tuple(parts)


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

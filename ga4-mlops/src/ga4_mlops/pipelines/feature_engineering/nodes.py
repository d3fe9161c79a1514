"""Fit imputation and encoding on train only (the splits themselves: ``splits.py``).

Nothing here knows GA4: column roles come from ``params:model_input.columns``, so the same
nodes serve any binary tabular problem (churn, default) whose table has a date column.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OrdinalEncoder

from ga4_mlops.checks import require_columns

from .splits import split_model_input

# The split node's former name, still imported by tests of later pipelines.
split_by_date = split_model_input

logger = logging.getLogger(__name__)

# Category codes: 0.. the categories seen at least min_category_count times in train (sorted),
# then one code for all rarer ones; never seen in train and missing get negative codes, which
# LightGBM reads as missing (the baseline's one-hot encoding keeps them apart).
UNSEEN_CODE = -1
MISSING_CODE = -2


def feature_columns(columns: dict[str, Any]) -> list[str]:
    """The model's input columns in a fixed order: numeric first, then categorical."""
    return [*columns["numeric"], *columns["categorical"]]


def fit_preprocessor(
    train_set: pd.DataFrame, columns: dict[str, Any], params: dict[str, Any]
) -> ColumnTransformer:
    """Learn median imputation and category codes from the train split only.

    scikit-learn's ``ColumnTransformer`` with pandas output, so the encoded features keep
    their names in the model, the served model and the SHAP plots (a numeric column with
    missing values in train gains ``missingindicator_<column>``). All outputs are float64.
    """
    numeric, categorical = list(columns["numeric"]), list(columns["categorical"])
    preprocessor = ColumnTransformer(
        [
            (
                "numeric",
                # keep_empty_features: a column empty in train is imputed with 0, not dropped
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                numeric,
            ),
            (
                "categorical",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=UNSEEN_CODE,
                    encoded_missing_value=MISSING_CODE,
                    min_frequency=params["min_category_count"],
                    dtype=np.float64,
                ),
                categorical,
            ),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    return preprocessor.fit(_model_input(train_set, numeric, categorical, "train_set"))


def _model_input(
    data: pd.DataFrame, numeric: list[str], categorical: list[str], dataset: str
) -> pd.DataFrame:
    """The input columns with numbers as float64 and categories as strings or NaN.

    Named errors instead of scikit-learn's: a missing column, or text in a numeric column.
    """
    require_columns(data, [*numeric, *categorical], dataset)
    prepared = {}
    for column in numeric:
        try:
            prepared[column] = pd.to_numeric(data[column], errors="raise").astype("float64")
        except (TypeError, ValueError) as error:
            raise ValueError(f"{dataset} column '{column}' must be numeric: {error}") from error
    for column in categorical:
        values = data[column]
        prepared[column] = values.astype(str).astype(object).where(values.notna(), np.nan)
    return pd.DataFrame(prepared, index=data.index)


def transform_features(
    preprocessor: ColumnTransformer, data: pd.DataFrame, dataset: str = "input"
) -> pd.DataFrame:
    """Apply the train-fitted preprocessing to any rows (``dataset`` names them in errors)."""
    roles = {name: list(columns) for name, _, columns in preprocessor.transformers}
    numeric, categorical = roles["numeric"], roles["categorical"]
    encoded = preprocessor.transform(_model_input(data, numeric, categorical, dataset))
    unseen = (encoded[categorical] == UNSEEN_CODE).sum()
    for column, count in unseen[unseen > 0].items():
        logger.info(
            "%s column '%s': %d rows with categories unseen in train", dataset, column, count
        )
    return encoded


def encode_features(
    preprocessor: ColumnTransformer, data: pd.DataFrame, split: str = "input"
) -> pd.DataFrame:
    """Apply the train-fitted preprocessing to a split (named in error messages)."""
    return transform_features(preprocessor, data, dataset=f"{split}_set")

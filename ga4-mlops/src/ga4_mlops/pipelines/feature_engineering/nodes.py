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

# Applying the fitted preprocessor is part of the served model: it lives in a module that
# imports no Kedro (ga4_mlops/scoring_model.py).
from ga4_mlops.scoring_model import (
    MISSING_CODE,
    UNSEEN_CODE,
    prepared_input,
    transform_features,
)

from .splits import split_model_input

# The split node's former name, still imported by tests of later pipelines.
split_by_date = split_model_input

logger = logging.getLogger(__name__)


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
    return preprocessor.fit(prepared_input(train_set, numeric, categorical, "train_set"))


def encode_features(
    preprocessor: ColumnTransformer, data: pd.DataFrame, split: str = "input"
) -> pd.DataFrame:
    """Apply the train-fitted preprocessing to a split (named in error messages)."""
    return transform_features(preprocessor, data, dataset=f"{split}_set")

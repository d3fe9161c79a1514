"""The refit banking LightGBM as an MLflow pyfunc: candidate feature rows in, top k out.

Imports numpy, pandas, LightGBM and MLflow only (the registered model's ``serving_packages``):
the product names and feature columns are stored in the model, not read from the pipeline's
modules, so a served model needs neither Kedro nor this run's configuration.
"""

import mlflow.pyfunc
import numpy as np
import pandas as pd

OUTPUT = {"customer": "int64", "product": "object", "rank": "int64"}


class BankingRecommender(mlflow.pyfunc.PythonModel):
    """Input: one row per customer, the columns ``customer`` and ``feature_names`` as
    ``features.candidate_features`` builds them (the customer's product flags of the last
    ``lags`` months, adds/drops/months held, the target month's attributes, categorical ones as
    codes of the training vocabulary, ``vocabulary`` in the model). Output: ``customer``,
    ``product`` (Kaggle's column name, e.g. ind_recibo_ult1), ``rank`` 1..k, best first; a
    product held last month (``lag1_*`` = 1) is never listed."""

    def __init__(
        self,
        booster,
        feature_names: list[str],
        products: list[str],
        held_columns: list[str],
        vocabulary: dict[str, list[str]],
        k: int,
    ):
        self.booster = booster
        self.feature_names = list(feature_names)
        self.products = list(products)
        self.held_columns = list(held_columns)  # the lag-1 flag of each product, in order
        self.vocabulary = vocabulary
        self.k = int(k)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        needed = ["customer", *self.feature_names]
        missing = [column for column in needed if column not in frame.columns]
        if missing:
            raise ValueError(
                f"model input lacks column(s) {missing[:10]}{' ...' if len(missing) > 10 else ''}"
                f": expected customer and the {len(self.feature_names)} candidate features"
            )
        if frame.empty:
            return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in OUTPUT.items()})
        features = frame[self.feature_names].astype("float32")
        probabilities = self.booster.predict(features)
        held = frame[self.held_columns].to_numpy(dtype=float) == 1
        scores = np.where(held, -1.0, probabilities)
        order = np.argsort(-scores, axis=1, kind="stable")[:, : self.k]
        rows = np.repeat(np.arange(len(scores)), order.shape[1])
        columns = order.ravel()
        ranked = pd.DataFrame(
            {
                "customer": frame["customer"].to_numpy(dtype=np.int64)[rows],
                "product": np.asarray(self.products, dtype=object)[columns],
                "rank": np.tile(np.arange(1, order.shape[1] + 1, dtype=np.int64), len(scores)),
            }
        )
        return ranked[scores[rows, columns] >= 0].reset_index(drop=True)

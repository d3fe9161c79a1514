"""The served model's code: the registered pyfunc model and the preprocessing it applies.

Only pandas, numpy, scikit-learn and MLflow here (and the fitted classifier's own library
when unpickled) and the plain modules ``ga4_mlops.checks`` and ``ga4_mlops.problem_types``,
never Kedro or the pipeline packages: the model's code path and its
requirements (``serving_packages`` of SignedPyfuncModelDataset) then stay what scoring needs.
"""

import logging

import mlflow.pyfunc
import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.compose import ColumnTransformer

from ga4_mlops.checks import require_columns
from ga4_mlops.problem_types import BINARY, MULTICLASS, class_score_columns, score_column
from ga4_mlops.problem_types import problem_type as validated_problem_type

logger = logging.getLogger(__name__)

# Category codes: 0.. the categories seen at least min_category_count times in train (sorted),
# then one code for all rarer ones; never seen in train and missing get negative codes, which
# LightGBM reads as missing (the baseline's one-hot encoding keeps them apart).
UNSEEN_CODE = -1
MISSING_CODE = -2


def prepared_input(
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
    encoded = preprocessor.transform(prepared_input(data, numeric, categorical, dataset))
    unseen = (encoded[categorical] == UNSEEN_CODE).sum()
    for column, count in unseen[unseen > 0].items():
        logger.info(
            "%s column '%s': %d rows with categories unseen in train", dataset, column, count
        )
    return encoded


class PropensityModel(mlflow.pyfunc.PythonModel):
    """Raw model-input rows in, the raw and calibrated scores out (one row per input).

    ``problem_type`` (``ga4_mlops.problem_types``): ``binary`` scores probabilities
    (``raw_probability``, ``calibrated_probability``: ``predict_proba`` of the classifier and
    of the calibrator), ``regression`` scores amounts (``raw_prediction``,
    ``calibrated_prediction``: ``predict`` of the regressor and of the calibrator), e.g.
    predicted revenue; ``multiclass`` scores one probability per class of ``classes``
    (``raw_probability_<class>``, ``calibrated_probability_<class>``) and the most likely
    class (``predicted_class``). The name stays ``PropensityModel`` for all, and so do the attribute
    names (``classifier`` holds the regressor of a regression model): registered versions
    are pickled by class and attribute names, and the ones already in the registry must
    keep loading (those have no ``problem_type`` attribute: binary).
    """

    def __init__(
        self,
        preprocessor: ColumnTransformer,
        classifier: ClassifierMixin | RegressorMixin,
        calibrator: ClassifierMixin | RegressorMixin,
        problem_type: str = BINARY,
        classes: list[str] | None = None,
    ) -> None:
        self.preprocessor = preprocessor
        self.classifier = classifier
        self.calibrator = calibrator
        self.problem_type = validated_problem_type({"problem_type": problem_type})
        if self.problem_type == MULTICLASS:
            self.classes = list(classes or [])
            class_score_columns("raw", self._columns())  # a named error for a bad list

    # The pd.DataFrame hint is for MLflow 3, which warns at class definition without one; it
    # neither converts nor validates a DataFrame-hinted input: the logged signature does.
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        features = transform_features(self.preprocessor, pd.DataFrame(model_input), "model input")
        kind = getattr(self, "problem_type", BINARY)
        if kind == BINARY:
            raw_probability = self.classifier.predict_proba(features)[:, 1]
            return pd.DataFrame(
                {
                    "raw_probability": raw_probability,
                    "calibrated_probability": self.calibrator.predict_proba(features)[:, 1],
                },
                index=features.index,
            )
        if kind == MULTICLASS:
            return self._class_scores(features)
        return pd.DataFrame(
            {
                score_column("raw", kind): np.asarray(
                    self.classifier.predict(features), dtype="float64"
                ).ravel(),
                score_column("calibrated", kind): np.asarray(
                    self.calibrator.predict(features), dtype="float64"
                ).ravel(),
            },
            index=features.index,
        )

    def _columns(self) -> dict:
        return {"problem_type": MULTICLASS, "classes": self.classes}

    def _class_scores(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each class's raw and calibrated probability, and the most likely class."""
        calibrated = self.calibrator.predict_proba(features)
        scores = pd.concat(
            [
                pd.DataFrame(
                    self.classifier.predict_proba(features),
                    columns=class_score_columns("raw", self._columns()),
                    index=features.index,
                ),
                pd.DataFrame(
                    calibrated,
                    columns=class_score_columns("calibrated", self._columns()),
                    index=features.index,
                ),
            ],
            axis=1,
        )
        scores["predicted_class"] = np.asarray(self.classes, dtype=object)[
            calibrated.argmax(axis=1)
        ]
        return scores

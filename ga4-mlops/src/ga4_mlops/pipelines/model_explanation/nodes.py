"""Explain the model with SHAP values on a sample of the test features.

The explainer follows the model's type: for trees (LightGBM, XGBoost, scikit-learn forests)
TreeExplainer gives exact SHAP values of the raw output (log-odds for boosted trees, the
probability for scikit-learn forests); any other classifier gets shap's model-agnostic
explainer on the log-odds of ``predict_proba``, with the sample as background. The values add
up, with the expected value, to that output, so the plots keep working after a model swap.

A regressor (``problem_type: regression``, predicted revenue) is explained the same way on
the log of its expected revenue: TreeExplainer on the raw output of a LightGBM
``LGBMRegressor`` (tweedie's log link: the log of the expected revenue), shap's
model-agnostic explainer on ``log(predict)`` (clipped to ``MIN_PREDICTION``) for any other
regressor, e.g. ``TwoPartRevenueRegressor``. ``compute_shap_values`` records that scale in
``shap_values.attrs["model_output"]`` and the summary plot's title names it.

A classifier of more than two classes (``problem_type: multiclass``) gets one explanation per
class; ``shap_values`` keeps the values of each row's predicted class and ``shap_importance``
sums mean |SHAP| over the classes (``multiclass.py``).

shap draws on pyplot's current figure: every plot is made on its own pyplot figure that is
closed (removed from pyplot's registry) before it is returned, so nothing leaks between nodes
and the returned Figure can still be saved.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap
from matplotlib.figure import Figure
from shap.utils._exceptions import InvalidModelError
from sklearn.base import ClassifierMixin, is_regressor

from . import multiclass

# Predicted revenue is clipped to this (USD) before its log, for the model-agnostic explainer.
MIN_PREDICTION = 1e-6
# The raw output a regressor is explained on (compute_shap_values: attrs["model_output"]).
LOG_EXPECTED_REVENUE = "log of expected revenue"
# LightGBM objectives with a log link: their raw score is the log of the expectation.
LOG_LINK_OBJECTIVES = ("tweedie", "poisson", "gamma")


def sample_rows(features: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` rows drawn without replacement, in their original order.

    TreeExplainer is linear in rows but the beeswarm and dependence plots are unreadable
    (and slow) with hundreds of thousands of points: a seeded sample is enough.
    """
    if max_rows < 1:
        raise ValueError(f"model_explanation.max_rows must be a positive integer, got {max_rows}")
    if len(features) <= max_rows:
        return features
    rng = np.random.default_rng(seed)
    positions = np.sort(rng.choice(len(features), size=max_rows, replace=False))
    return features.iloc[positions]


def _model_features(model: ClassifierMixin, features: pd.DataFrame) -> pd.DataFrame:
    """The feature columns in the order the model was trained on."""
    expected = [str(name) for name in model.feature_names_in_]
    missing = [column for column in expected if column not in features.columns]
    if missing:
        raise ValueError(
            f"dataset 'test_features' lacks column(s) {missing} that the model was "
            f"trained on: expected columns {expected}"
        )
    return features[expected]


def _log_odds(model: ClassifierMixin) -> Callable[[np.ndarray], np.ndarray]:
    def log_odds(rows: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(rows, columns=model.feature_names_in_)
        probability = np.clip(model.predict_proba(frame)[:, 1], 1e-12, 1 - 1e-12)
        return np.log(probability / (1 - probability))

    return log_odds


def _log_prediction(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    def log_prediction(rows: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(rows, columns=model.feature_names_in_)
        return np.log(np.clip(model.predict(frame), MIN_PREDICTION, None))

    return log_prediction


def _tree_explainable(model: Any) -> bool:
    """Whether ``_explainer`` gives this model TreeExplainer (exact and fast)."""
    categorical_splits = getattr(model, "is_categorical_", None)
    if categorical_splits is not None and np.any(categorical_splits):
        return False
    try:
        shap.TreeExplainer(model)
    except InvalidModelError:
        return False
    return True


def _explainer(model: ClassifierMixin, background: pd.DataFrame) -> shap.Explainer:
    """TreeExplainer when shap knows the model as trees, else the model-agnostic one.

    The model-agnostic one explains the log-odds of a classifier, ``log(predict)`` of a
    regressor (``TwoPartRevenueRegressor``: not trees shap knows).

    shap reads scikit-learn's HistGradientBoosting trees but not their categorical splits
    (its values then do not add up to the model's output): such a model gets the other.
    """
    categorical_splits = getattr(model, "is_categorical_", None)
    try:
        if categorical_splits is not None and np.any(categorical_splits):
            raise InvalidModelError("categorical splits")
        return shap.TreeExplainer(model)
    except InvalidModelError:
        masker = shap.maskers.Independent(background.to_numpy(dtype="float64"), max_samples=100)
        if is_regressor(model):
            output = _log_prediction(model)
        elif multiclass.is_multiclass(model):
            output = multiclass.log_probabilities(model)
        else:
            output = _log_odds(model)
        return shap.Explainer(output, masker, feature_names=list(background.columns))


def log_odds_shap_values(
    model: ClassifierMixin, features: pd.DataFrame
) -> tuple[pd.DataFrame, float | np.ndarray]:
    """SHAP values (one column per feature, same index as ``features``) and expected value.

    ``values.sum(axis=1) + expected_value`` equals the model's raw output for the positive
    class: log-odds for boosted trees (LightGBM ``model.predict(features, raw_score=True)``)
    and for the model-agnostic explainer, the probability for scikit-learn forests. For a
    regressor: the log of expected revenue (LightGBM tweedie's raw score, or
    ``log(predict)`` clipped to ``MIN_PREDICTION`` for the model-agnostic explainer), named
    in ``values.attrs["model_output"]``. A multiclass classifier: the values of each row's
    predicted class and, per row, that class's expected value (an array; see
    ``multiclass.predicted_class_values``).
    """
    ordered = _model_features(model, features)
    explainer = _explainer(model, ordered)
    rows = ordered if isinstance(explainer, shap.TreeExplainer) else ordered.to_numpy("float64")
    explanation = explainer(rows)
    values, base_values = np.asarray(explanation.values), np.asarray(explanation.base_values)
    if values.ndim == 3 and multiclass.is_multiclass(model):
        output = multiclass.output_name(model, isinstance(explainer, shap.TreeExplainer))
        return multiclass.predicted_class_values(model, ordered, values, base_values, output)
    if values.ndim == 3 and values.shape[2] == 2:  # one slice per class (scikit-learn trees)
        values, base_values = values[:, :, 1], base_values[..., 1]
    if values.ndim != 2:
        raise ValueError(
            "expected one SHAP value per row and feature from a binary classifier or a "
            f"regressor, got an array of shape {values.shape}"
        )
    expected_value = float(np.ravel(base_values)[0])
    frame = pd.DataFrame(values, index=ordered.index, columns=ordered.columns)
    if is_regressor(model):
        frame.attrs["model_output"] = _regression_output(model, explainer)
    return frame, expected_value


def compute_shap_values(
    model: ClassifierMixin, test_features: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SHAP values of a seeded sample of the test features, and that sample.

    The sample is ``max_rows`` rows, or ``max_rows_model_agnostic`` when shap cannot read the
    model as trees: its model-agnostic explainer predicts the background for every permutation
    of every row (about 0.3 s a row for the two-part revenue model on 2 cores).

    For a regressor, ``values.attrs["model_output"]`` names the scale explained (see
    ``log_odds_shap_values``); a classifier's values carry no such attribute.
    """
    max_rows = params["max_rows"]
    if not _tree_explainable(model):
        max_rows = min(max_rows, params.get("max_rows_model_agnostic") or max_rows)
    sample = _model_features(model, sample_rows(test_features, max_rows, params["seed"]))
    values, _ = log_odds_shap_values(model, sample)
    return values, sample


def _regression_output(model: Any, explainer: shap.Explainer) -> str:
    """What a regressor's SHAP values add up to: the log of expected revenue (model-agnostic
    explainer, or a LightGBM log-link objective such as tweedie), else the raw tree output."""
    if not isinstance(explainer, shap.TreeExplainer):
        return LOG_EXPECTED_REVENUE
    if getattr(model, "objective_", None) in LOG_LINK_OBJECTIVES:
        return LOG_EXPECTED_REVENUE
    return "raw model output"


def shap_importance(shap_values: pd.DataFrame) -> pd.DataFrame:
    """Features ranked by mean |SHAP value| (rank 1 = most important; ties by name).

    Multiclass: mean |SHAP| summed over the classes, and one column per class
    (``multiclass.importance_by_class``).
    """
    by_class = shap_values.attrs.get(multiclass.BY_CLASS)
    if by_class is not None:
        table = multiclass.importance_by_class(by_class)
    else:
        table = shap_values.abs().mean().rename_axis("feature").reset_index(name="mean_abs_shap")
    table = table.sort_values(
        ["mean_abs_shap", "feature"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def _explanation(shap_values: pd.DataFrame, feature_sample: pd.DataFrame) -> shap.Explanation:
    if not shap_values.index.equals(feature_sample.index) or list(shap_values.columns) != list(
        feature_sample.columns
    ):
        raise ValueError(
            "shap_values and the feature sample must have the same rows and columns (both come "
            "from compute_shap_values)"
        )
    return shap.Explanation(
        values=shap_values.to_numpy(),
        data=feature_sample.to_numpy(dtype="float64"),
        feature_names=list(shap_values.columns),
    )


@contextmanager
def _pyplot_figure(**figure_kwargs: Any) -> Iterator[Figure]:
    """A pyplot figure for shap to draw on, closed on exit (and on error)."""
    figure = plt.figure(**figure_kwargs)
    try:
        yield figure
    finally:
        plt.close(figure)


def _draw(draw: Callable[[plt.Axes], None], figsize: tuple[float, float]) -> Figure:
    with _pyplot_figure(figsize=figsize) as figure:
        draw(figure.add_subplot())
    return figure


def plot_shap_summary(
    shap_values: pd.DataFrame, feature_sample: pd.DataFrame, params: dict[str, Any]
) -> Figure:
    """Beeswarm: one row of points per feature (most important first), coloured by value.

    The title names the scale explained when ``shap_values.attrs["model_output"]`` records it
    (a regressor: log of expected revenue); else "model output" (a classifier: log-odds).
    """
    explanation = _explanation(shap_values, feature_sample)
    max_display = params["max_display"]
    height = 1.5 + 0.4 * min(max_display, shap_values.shape[1])

    def draw(axes: plt.Axes) -> None:
        shap.plots.beeswarm(
            explanation, max_display=max_display, ax=axes, show=False, plot_size=None
        )
        output = shap_values.attrs.get("model_output", "model output")
        axes.set_title(f"SHAP values ({output}) on {len(shap_values)} test rows")

    return _draw(draw, figsize=(9, height))


def _file_name(rank: int, feature: str) -> str:
    """A safe, ordered file name for a feature's plot: '01_sessions_28d.png'."""
    return f"{rank:02d}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', feature)}.png"


def plot_shap_dependence(
    shap_values: pd.DataFrame,
    feature_sample: pd.DataFrame,
    importance: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, Figure]:
    """One dependence plot (SHAP value vs feature value) per top-N feature, keyed by file name.

    The colour is the feature shap estimates to interact most with the plotted one.
    """
    explanation = _explanation(shap_values, feature_sample)
    top = importance.nsmallest(params["top_n_dependence"], "rank")
    figures = {}
    for feature, rank in zip(top["feature"], top["rank"], strict=True):

        def draw(axes: plt.Axes, feature: str = feature) -> None:
            # With a single feature there is nothing to colour by.
            colour = explanation if shap_values.shape[1] > 1 else "#1E88E5"
            shap.plots.scatter(explanation[:, feature], color=colour, ax=axes, show=False)
            axes.set_title(f"SHAP dependence: {feature}")

        figures[_file_name(int(rank), feature)] = _draw(draw, figsize=(7, 5))
    return figures

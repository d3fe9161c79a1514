"""SHAP for a multiclass classifier (``problem_type: multiclass``): real models, no mocks."""

import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import shap
from kedro.io import MemoryDataset
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from ga4_mlops.pipelines.model_explanation import create_pipeline
from ga4_mlops.pipelines.model_explanation.multiclass import (
    BY_CLASS,
    FOREST_OUTPUT,
    LOG_PROBABILITY_OUTPUT,
    TREE_OUTPUT,
)
from ga4_mlops.pipelines.model_explanation.nodes import (
    compute_shap_values,
    log_odds_shap_values,
    plot_shap_dependence,
    plot_shap_summary,
    shap_importance,
)

from ..model_evaluation.mlflow_catalog import parameters, run_in_memory, run_with_catalog

PARAMS = {"max_rows": 200, "seed": 5, "max_display": 10, "top_n_dependence": 2}
N_CLASSES = 4


def category_features(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Mostly class 0 ("no purchase"); 'intent' decides whether a user buys, 'taste' which of
    the categories 1-3, 'noise' nothing."""
    rng = np.random.default_rng(seed)
    intent = rng.normal(size=n)
    taste = rng.uniform(0, 3, n)
    noise = rng.normal(size=n)
    noise[rng.random(n) < 0.1] = np.nan
    buys = rng.random(n) < 1 / (1 + np.exp(-(-3.0 + 2.0 * intent)))
    category = 1 + np.minimum(taste.astype(int), 2)
    labels = np.where(buys, category, 0)
    return pd.DataFrame({"noise": noise, "intent": intent, "taste": taste}), labels


@pytest.fixture(scope="module")
def model_and_features() -> tuple[lgb.LGBMClassifier, pd.DataFrame]:
    features, labels = category_features()
    model = lgb.LGBMClassifier(
        objective="multiclass",
        n_estimators=30,
        num_leaves=8,
        random_state=0,
        deterministic=True,
        verbose=-1,
    ).fit(features, labels)
    assert list(model.classes_) == list(range(N_CLASSES))
    return model, category_features(n=800, seed=1)[0]


def test_values_of_the_predicted_class_add_up_to_its_raw_score(model_and_features):
    model, features = model_and_features
    values, expected = log_odds_shap_values(model, features)
    raw = model.predict(features, raw_score=True)  # [n, K]: the softmax's inputs
    predicted = model.predict(features)
    assert expected.shape == (len(features),)
    np.testing.assert_allclose(
        values.sum(axis=1) + expected, raw[np.arange(len(features)), predicted], atol=1e-6
    )
    assert list(values.columns) == ["noise", "intent", "taste"]
    assert values.index.equals(features.index)
    assert values.attrs["model_output"] == TREE_OUTPUT
    # Rows predicted as different classes get that class's values, not one class for all.
    assert len(np.unique(predicted)) > 1


def test_importance_sums_mean_abs_shap_over_the_classes(model_and_features):
    model, features = model_and_features
    values, sample = compute_shap_values(model, features, PARAMS)
    assert len(values) == len(sample) == PARAMS["max_rows"]
    stored = MemoryDataset()  # how Kedro hands shap_values on: the per-class means survive
    stored.save(values)
    importance = shap_importance(stored.load())
    per_class = np.abs(shap.TreeExplainer(model)(sample).values).mean(axis=0)  # [F, K]
    expected = pd.Series(per_class.sum(axis=1), index=sample.columns)
    by_feature = importance.set_index("feature")
    np.testing.assert_allclose(by_feature["mean_abs_shap"], expected[by_feature.index])
    for k in range(N_CLASSES):
        np.testing.assert_allclose(
            by_feature[f"mean_abs_shap_{k}"],
            pd.Series(per_class[:, k], index=sample.columns)[by_feature.index],
        )
    assert importance["rank"].tolist() == [1, 2, 3]
    assert importance["feature"].iloc[-1] == "noise"
    assert set(importance["feature"].iloc[:2]) == {"intent", "taste"}
    # Not the importance of the predicted class's values alone: most rows predict class 0,
    # whose outputs hardly depend on 'taste'.
    predicted_only = values.abs().mean()
    assert not np.allclose(by_feature["mean_abs_shap"], predicted_only[by_feature.index])


def test_plots_name_the_predicted_class_and_close_their_figures(model_and_features):
    model, features = model_and_features
    values, sample = compute_shap_values(model, features, PARAMS)
    importance = shap_importance(values)
    open_figures = plt.get_fignums()
    summary = plot_shap_summary(values, sample, PARAMS)
    dependence = plot_shap_dependence(values, sample, importance, PARAMS)
    assert plt.get_fignums() == open_figures
    assert summary.axes[0].get_title() == (
        f"SHAP values (raw score of the predicted class) on {PARAMS['max_rows']} test rows"
    )
    top = importance["feature"].iloc[0]
    assert next(iter(dependence)) == f"01_{top}.png"
    assert len(dependence) == PARAMS["top_n_dependence"]


def test_a_classifier_shap_cannot_read_as_trees_is_explained_on_log_probabilities():
    features, labels = category_features(n=1500)
    train = features.fillna(0.0)
    model = LogisticRegression(max_iter=500).fit(train, labels)
    sample = category_features(n=200, seed=3)[0].fillna(0.0).head(25)
    values, expected = log_odds_shap_values(model, sample)
    probabilities = model.predict_proba(sample)
    predicted = probabilities.argmax(axis=1)
    log_probability = np.log(probabilities[np.arange(len(sample)), predicted])
    np.testing.assert_allclose(values.sum(axis=1) + expected, log_probability, atol=1e-6)
    assert values.attrs["model_output"] == LOG_PROBABILITY_OUTPUT
    assert set(values.attrs[BY_CLASS]) == {str(k) for k in range(N_CLASSES)}


def test_pipeline_runs_on_a_multiclass_model_and_saves_the_importance(
    tmp_path, monkeypatch, model_and_features
):
    model, features = model_and_features
    params = parameters("model_explanation", tmp_path)
    outputs = run_in_memory(
        create_pipeline(),
        {"model": model, "test_features": features, "params:model_explanation": params},
    )
    importance = outputs["shap_importance"]
    assert [f"mean_abs_shap_{k}" for k in range(N_CLASSES)] == list(importance.columns[2:-1])
    assert outputs["shap_values"].attrs["model_output"] == TREE_OUTPUT
    with run_with_catalog("model_explanation", tmp_path, monkeypatch) as (catalog, _):
        for name in ("shap_importance", "shap_summary_plot", "shap_dependence_plots"):
            catalog.save(name, outputs[name])
        reloaded = catalog.load("shap_importance")
    pd.testing.assert_frame_equal(reloaded, importance, check_dtype=False)


def test_a_forest_is_explained_on_the_probability_of_the_predicted_class():
    features, labels = category_features(n=1000)
    model = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    model.fit(features.fillna(0.0), labels)
    sample = category_features(n=100, seed=4)[0].fillna(0.0)
    values, expected = log_odds_shap_values(model, sample)
    probabilities = model.predict_proba(sample)
    predicted = probabilities.argmax(axis=1)
    np.testing.assert_allclose(
        values.sum(axis=1) + expected,
        probabilities[np.arange(len(sample)), predicted],
        atol=1e-6,
    )
    assert values.attrs["model_output"] == FOREST_OUTPUT

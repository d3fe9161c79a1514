"""SHAP for predicted revenue (``problem_type: regression``): real LightGBM models, no mocks."""

import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from kedro.io import MemoryDataset

from ga4_mlops.pipelines.model_explanation.nodes import (
    LOG_EXPECTED_REVENUE,
    MIN_PREDICTION,
    compute_shap_values,
    log_odds_shap_values,
    plot_shap_dependence,
    plot_shap_summary,
    shap_importance,
)
from ga4_mlops.pipelines.model_training.regression import (
    make_tweedie_regressor,
    make_two_part_regressor,
)

PARAMS = {"max_rows": 150, "seed": 11, "max_display": 10, "top_n_dependence": 2}
SMALL_TREES = {"n_estimators": 30, "num_leaves": 8}


def revenue_features(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Encoded features and zero-inflated revenue: 'tenure' drives who buys, 'plan' how much,
    'noise' nothing."""
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 10.0, n)
    plan = rng.integers(0, 4, n).astype("float64")
    noise = rng.normal(size=n)
    noise[rng.random(n) < 0.1] = np.nan
    buys = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 3.0 * (tenure < 10))))
    revenue = np.where(buys, rng.gamma(3.0, 10.0 * (1 + plan), n), 0.0)
    return pd.DataFrame({"tenure": tenure, "noise": noise, "plan": plan}), revenue


@pytest.fixture(scope="module")
def tweedie_and_features() -> tuple[lgb.LGBMRegressor, pd.DataFrame]:
    features, revenue = revenue_features()
    model = make_tweedie_regressor(SMALL_TREES, seed=0).fit(features, revenue)
    return model, revenue_features(n=600, seed=1)[0]


def test_tweedie_values_add_up_to_the_log_of_expected_revenue(tweedie_and_features):
    model, features = tweedie_and_features
    values, expected_value = log_odds_shap_values(model, features)
    raw = model.predict(features, raw_score=True)
    np.testing.assert_allclose(values.sum(axis=1) + expected_value, raw, atol=1e-6)
    np.testing.assert_allclose(raw, np.log(model.predict(features)), atol=1e-9)  # log link
    assert values.attrs["model_output"] == LOG_EXPECTED_REVENUE
    assert list(values.columns) == ["tenure", "noise", "plan"]


def test_tweedie_importance_and_plots_name_the_revenue_scale(tweedie_and_features):
    model, features = tweedie_and_features
    values, sample = compute_shap_values(model, features, PARAMS)
    assert len(values) == len(sample) == PARAMS["max_rows"]
    # Kedro hands shap_values to the plot nodes through a MemoryDataset: the scale survives.
    stored = MemoryDataset()
    stored.save(values)
    values = stored.load()
    assert values.attrs["model_output"] == LOG_EXPECTED_REVENUE
    importance = shap_importance(values)
    assert importance["feature"].iloc[-1] == "noise"
    open_figures = plt.get_fignums()
    summary = plot_shap_summary(values, sample, PARAMS)
    dependence = plot_shap_dependence(values, sample, importance, PARAMS)
    assert plt.get_fignums() == open_figures
    assert summary.axes[0].get_title() == (
        f"SHAP values (log of expected revenue) on {PARAMS['max_rows']} test rows"
    )
    assert len(dependence) == 2


def test_two_part_model_gets_the_model_agnostic_explainer_on_log_prediction():
    features, revenue = revenue_features()
    model = make_two_part_regressor(
        {"classifier_params": SMALL_TREES, "severity_params": SMALL_TREES}, seed=0
    ).fit(features, revenue)
    sample = revenue_features(n=300, seed=2)[0].head(40)
    values, expected_value = log_odds_shap_values(model, sample)
    log_prediction = np.log(np.clip(model.predict(sample), MIN_PREDICTION, None))
    np.testing.assert_allclose(values.sum(axis=1) + expected_value, log_prediction, atol=1e-6)
    assert values.attrs["model_output"] == LOG_EXPECTED_REVENUE
    # tenure decides who buys at all: the largest share of log revenue
    assert shap_importance(values)["feature"].iloc[0] == "tenure"


def test_a_classifier_keeps_the_binary_title_and_no_scale_attribute():
    features, revenue = revenue_features(n=800)
    model = lgb.LGBMClassifier(n_estimators=20, random_state=0, deterministic=True, verbose=-1)
    model.fit(features, (revenue > 0).astype(int))
    values, sample = compute_shap_values(model, features, PARAMS)
    assert "model_output" not in values.attrs
    summary = plot_shap_summary(values, sample, PARAMS)
    assert summary.axes[0].get_title() == f"SHAP values (model output) on {len(values)} test rows"


def test_only_a_model_shap_cannot_read_as_trees_gets_the_smaller_sample(tweedie_and_features):
    tweedie, features = tweedie_and_features
    train, revenue = revenue_features(n=800)
    two_part = make_two_part_regressor(
        {"classifier_params": SMALL_TREES, "severity_params": SMALL_TREES}, seed=0
    ).fit(train, revenue)
    params = {**PARAMS, "max_rows_model_agnostic": 20}
    assert len(compute_shap_values(tweedie, features, params)[0]) == PARAMS["max_rows"]
    values, sample = compute_shap_values(two_part, features, params)
    assert len(values) == len(sample) == 20

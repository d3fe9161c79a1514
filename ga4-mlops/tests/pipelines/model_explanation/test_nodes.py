import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ga4_mlops.pipelines.model_explanation.nodes import (
    compute_shap_values,
    log_odds_shap_values,
    plot_shap_dependence,
    plot_shap_summary,
    sample_rows,
    shap_importance,
)

PARAMS = {"max_rows": 300, "seed": 11, "max_display": 10, "top_n_dependence": 2}


def make_encoded_features(n: int = 1200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Float features like test_features: numerics with NaN and a categorical as codes.

    The label depends strongly on 'tenure', less on the 'plan' code, not at all on 'noise'.
    """
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 10.0, n)
    plan = rng.integers(0, 4, n).astype("float64")
    noise = rng.normal(size=n)
    noise[rng.random(n) < 0.1] = np.nan
    logit = -1.0 + 2.5 * (tenure < 10) + 0.8 * (plan == 2)
    labels = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    features = pd.DataFrame({"tenure": tenure, "noise": noise, "plan": plan})
    return features, labels


@pytest.fixture(scope="module")
def model_and_features() -> tuple[lgb.LGBMClassifier, pd.DataFrame]:
    features, labels = make_encoded_features()
    model = lgb.LGBMClassifier(
        n_estimators=40, num_leaves=8, random_state=0, deterministic=True, n_jobs=1, verbose=-1
    )
    model.fit(features, labels, categorical_feature=["plan"])
    return model, make_encoded_features(n=800, seed=1)[0]


def test_shap_values_add_up_to_the_raw_margin(model_and_features):
    model, features = model_and_features
    values, expected_value = log_odds_shap_values(model, features)
    margin = model.predict(features, raw_score=True)
    np.testing.assert_allclose(values.sum(axis=1) + expected_value, margin, atol=1e-6)
    assert list(values.columns) == list(model.feature_names_in_)
    assert values.index.equals(features.index)


def test_columns_are_taken_in_the_model_order_and_missing_ones_named(model_and_features):
    model, features = model_and_features
    shuffled = features[["plan", "tenure", "noise"]]
    values, _ = log_odds_shap_values(model, shuffled)
    assert list(values.columns) == ["tenure", "noise", "plan"]
    with pytest.raises(ValueError, match=r"test_features.*\['plan'\]"):
        log_odds_shap_values(model, features.drop(columns="plan"))


def test_sample_is_deterministic_ordered_and_bounded():
    frame = pd.DataFrame({"x": np.arange(1000.0)})
    first = sample_rows(frame, 100, seed=5)
    assert len(first) == 100 and first.index.is_monotonic_increasing
    assert first.index.equals(sample_rows(frame, 100, seed=5).index)
    assert not first.index.equals(sample_rows(frame, 100, seed=6).index)
    assert sample_rows(frame, 5000, seed=5) is frame


def test_importance_ranks_the_planted_signal_first(model_and_features):
    model, features = model_and_features
    values, sample = compute_shap_values(model, features, PARAMS)
    assert len(values) == len(sample) == PARAMS["max_rows"]
    table = shap_importance(values)
    assert table.columns.tolist() == ["feature", "mean_abs_shap", "rank"]
    assert table["feature"].tolist()[0] == "tenure"
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["mean_abs_shap"].is_monotonic_decreasing
    assert table["mean_abs_shap"].iloc[0] == pytest.approx(values["tenure"].abs().mean())


def test_plots_are_figures_and_leave_pyplot_clean(model_and_features):
    model, features = model_and_features
    values, sample = compute_shap_values(model, features, PARAMS)
    importance = shap_importance(values)
    open_figures = plt.get_fignums()

    summary = plot_shap_summary(values, sample, PARAMS)
    dependence = plot_shap_dependence(values, sample, importance, PARAMS)

    assert plt.get_fignums() == open_figures
    assert isinstance(summary, Figure)
    assert summary.axes[0].get_title().startswith("SHAP values")
    feature_rows = {label.get_text() for label in summary.axes[0].get_yticklabels()}
    assert feature_rows == {"tenure", "noise", "plan"}  # one row of points per feature
    assert list(dependence) == ["01_tenure.png", f"02_{importance['feature'].iloc[1]}.png"]
    for name, figure in dependence.items():
        assert isinstance(figure, Figure)
        axes = figure.axes[0]
        assert axes.get_xlabel() == name[3:-4]  # the plotted feature
        points = sum(len(collection.get_offsets()) for collection in axes.collections)
        assert points == PARAMS["max_rows"]  # every sampled row is drawn
    summary.savefig(pd.io.common.BytesIO(), format="png")  # still drawable after closing


def test_mismatched_shap_values_and_sample_are_refused(model_and_features):
    model, features = model_and_features
    values, sample = compute_shap_values(model, features, PARAMS)
    with pytest.raises(ValueError, match="same rows and columns"):
        plot_shap_summary(values, sample.iloc[1:], PARAMS)


def test_a_model_without_trees_gets_the_model_agnostic_explainer_in_log_odds():
    """A model swap keeps SHAP: a logistic regression is explained on its log-odds too."""
    from sklearn.linear_model import LogisticRegression

    features, labels = make_encoded_features(n=600)
    filled = features.fillna(0.0)
    model = LogisticRegression(max_iter=1000).fit(filled, labels)
    sample = filled.head(40)
    values, expected_value = log_odds_shap_values(model, sample)
    assert list(values.columns) == ["tenure", "noise", "plan"]
    log_odds = model.decision_function(sample)
    np.testing.assert_allclose(values.sum(axis=1) + expected_value, log_odds, atol=1e-6)
    # tenure drives the label: it carries the largest mean |SHAP value|
    assert shap_importance(values)["feature"].iloc[0] == "tenure"


def test_a_scikit_learn_forest_gets_the_tree_explainer_for_its_positive_class():
    from sklearn.ensemble import RandomForestClassifier

    features, labels = make_encoded_features(n=600)
    filled = features.fillna(0.0)
    model = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(filled, labels)
    sample = filled.head(50)
    values, expected_value = log_odds_shap_values(model, sample)
    assert values.shape == (50, 3)
    np.testing.assert_allclose(
        values.sum(axis=1) + expected_value, model.predict_proba(sample)[:, 1], atol=1e-6
    )


def test_categorical_hist_gradient_boosting_gets_values_that_add_up_to_its_log_odds():
    """shap reads HistGradientBoosting's trees but not its categorical splits: the fallback."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    features, labels = make_encoded_features(n=600)
    model = HistGradientBoostingClassifier(
        max_iter=30, categorical_features=["plan"], random_state=0
    ).fit(features, labels)
    sample = features.head(40)
    values, expected_value = log_odds_shap_values(model, sample)
    np.testing.assert_allclose(
        values.sum(axis=1) + expected_value, model.decision_function(sample), atol=1e-6
    )

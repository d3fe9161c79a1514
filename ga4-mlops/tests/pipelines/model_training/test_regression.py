import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from ga4_mlops.pipelines.model_evaluation.regression_metrics import normalized_gini, rmse
from ga4_mlops.pipelines.model_training.regression import (
    REVENUE_KINDS,
    TwoPartRevenueRegressor,
    choose_revenue_model,
    make_revenue_model,
)

ROWS = 5_000
# Small enough to keep each fit well under a second; bagging rows and columns makes the
# seed matter, so the determinism test can fail.
BAGGING = {"subsample": 0.7, "subsample_freq": 1, "colsample_bytree": 0.7}
TWEEDIE = {"n_estimators": 200, "learning_rate": 0.05, "tweedie_variance_power": 1.3, **BAGGING}
PART = {"n_estimators": 200, "learning_rate": 0.05, **BAGGING}
HYPERPARAMETERS = {
    "tweedie": TWEEDIE,
    "two_part": {"classifier_params": PART, "severity_params": PART},
}


def zero_inflated(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Purchase probability from x1, spend from x2, x3 noise; and the exact expectation."""
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(rng.normal(size=(rows, 3)), columns=["x1", "x2", "x3"])
    probability = 1.0 / (1.0 + np.exp(2.5 - 1.5 * features["x1"].to_numpy()))
    mean_spend = np.exp(3.5 + 0.8 * features["x2"].to_numpy())
    bought = rng.random(rows) < probability
    revenue = np.where(bought, rng.gamma(2.0, mean_spend / 2.0), 0.0)
    return features, revenue, probability * mean_spend


@pytest.fixture(scope="module")
def train():
    return zero_inflated(ROWS, seed=0)


@pytest.fixture(scope="module")
def validation():
    return zero_inflated(ROWS, seed=1)


@pytest.fixture(scope="module")
def fitted(train):
    features, revenue, _ = train
    return {
        kind: make_revenue_model(kind, HYPERPARAMETERS[kind], seed=7).fit(features, revenue)
        for kind in REVENUE_KINDS
    }


def test_synthetic_data_is_zero_inflated(train):
    _, revenue, _ = train
    assert 0.05 < (revenue > 0).mean() < 0.3


@pytest.mark.parametrize("kind", sorted(REVENUE_KINDS))
def test_models_rank_spenders_far_better_than_random(kind, fitted, validation):
    features, revenue, _ = validation
    predicted = fitted[kind].predict(features)
    random_gini = normalized_gini(revenue, np.random.default_rng(3).random(ROWS))
    assert predicted.shape == (ROWS,)
    assert (predicted >= 0).all()
    assert abs(random_gini) < 0.1
    assert normalized_gini(revenue, predicted) > 0.5
    # The total is of the right order (the synthetic oracle is within ~10 %).
    assert 0.5 < predicted.sum() / revenue.sum() < 1.5


@pytest.mark.parametrize("kind", sorted(REVENUE_KINDS))
def test_same_seed_same_predictions(kind, fitted, train, validation):
    features, revenue, _ = train
    again = make_revenue_model(kind, HYPERPARAMETERS[kind], seed=7).fit(features, revenue)
    cloned = clone(fitted[kind]).fit(features, revenue)
    expected = fitted[kind].predict(validation[0])
    np.testing.assert_array_equal(again.predict(validation[0]), expected)
    np.testing.assert_array_equal(cloned.predict(validation[0]), expected)


@pytest.mark.parametrize("kind", sorted(REVENUE_KINDS))
def test_another_seed_another_model(kind, fitted, train, validation):
    features, revenue, _ = train
    other = make_revenue_model(kind, HYPERPARAMETERS[kind], seed=8).fit(features, revenue)
    assert not np.array_equal(other.predict(validation[0]), fitted[kind].predict(validation[0]))


@pytest.mark.parametrize("kind", sorted(REVENUE_KINDS))
def test_seed_and_threads_reach_lightgbm(kind):
    model = make_revenue_model(kind, HYPERPARAMETERS[kind], seed=11)
    params = model.get_params()
    assert params["random_state"] == 11
    assert params["n_jobs"] == 1
    assert make_revenue_model(kind, HYPERPARAMETERS[kind], n_jobs=2).get_params()["n_jobs"] == 2


def test_seed_reaches_both_parts(fitted):
    two_part = fitted["two_part"]
    for part in (two_part.classifier_, two_part.severity_):
        assert part.get_params()["random_state"] == 7
        assert part.get_params()["n_jobs"] == 1
        assert part.get_params()["deterministic"] is True


def test_tweedie_objective_and_configured_variance_power(fitted):
    params = fitted["tweedie"].get_params()
    assert params["objective"] == "tweedie"
    assert params["tweedie_variance_power"] == 1.3
    assert make_revenue_model("tweedie").get_params()["tweedie_variance_power"] == 1.4


def test_two_part_is_probability_times_buyer_spend(fitted, train, validation):
    two_part = fitted["two_part"]
    features = validation[0]
    probability = two_part.predict_purchase_probability(features)
    spend = two_part.predict_revenue_if_purchase(features)
    assert ((probability >= 0) & (probability <= 1)).all()
    np.testing.assert_allclose(two_part.predict(features), probability * spend)
    assert two_part.severity_.get_params()["objective"] == "gamma"
    # The spend part is fit on buyers only: on the training buyers it averages their
    # revenue (fit on every row, zeros included, it would be several times lower).
    train_features, train_revenue, _ = train
    buyers = train_revenue > 0
    ratio = two_part.predict_revenue_if_purchase(train_features[buyers]).mean() / (
        train_revenue[buyers].mean()
    )
    assert 0.8 < ratio < 1.25
    # The purchase part ranks buyers: P(purchase) rises with x1, not with x2 (rank
    # correlations; the spend part is the one that reads x2).
    ranks = features.assign(probability=probability, spend=spend).corr(method="spearman")
    assert ranks.loc["probability", "x1"] > 0.8
    assert abs(ranks.loc["probability", "x2"]) < 0.2
    assert ranks.loc["spend", "x2"] > 0.8


def test_two_part_needs_buyers_and_non_buyers(train):
    features = train[0].iloc[:50]
    with pytest.raises(ValueError, match="both buyers"):
        TwoPartRevenueRegressor().fit(features, np.zeros(50))
    with pytest.raises(ValueError, match=">= 0"):
        TwoPartRevenueRegressor().fit(features, -np.ones(50))
    with pytest.raises(ValueError, match="severity_objective"):
        TwoPartRevenueRegressor(severity_objective="l2").fit(features, np.arange(50.0))


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="expected one of"):
        make_revenue_model("poisson")


def test_chooser_picks_the_argmax_of_its_own_table(fitted, validation):
    features, revenue, _ = validation
    chosen, table = choose_revenue_model(fitted, features, revenue)
    assert table["model"].tolist() == list(fitted)
    best = table.loc[table["normalized_gini"].idxmax(), "model"]
    assert chosen == best
    assert table.loc[table["chosen"], "model"].tolist() == [chosen]
    gini = normalized_gini(revenue, fitted[chosen].predict(features))
    assert table.set_index("model").loc[chosen, "normalized_gini"] == pytest.approx(gini)


class Fixed:
    """A fitted stand-in that predicts given values."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype="float64")

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.values


@pytest.mark.parametrize("order", [("good", "bad"), ("bad", "good")])
def test_chooser_picks_the_clearly_better_model_in_any_order(validation, order):
    features, revenue, expected = validation
    candidates = {
        "good": Fixed(expected),
        "bad": Fixed(np.random.default_rng(5).random(ROWS) * expected.mean()),
    }
    chosen, table = choose_revenue_model(
        {name: candidates[name] for name in order}, features, revenue
    )
    assert chosen == "good"
    assert table["model"].tolist() == list(order)


def test_chooser_breaks_a_gini_tie_by_rmse(validation):
    features, revenue, expected = validation
    # The same ranking at two scales: equal Gini, the right scale has the lower RMSE.
    candidates = {"doubled": Fixed(2.0 * expected), "exact": Fixed(expected)}
    chosen, table = choose_revenue_model(candidates, features, revenue)
    assert table["normalized_gini"].iloc[0] == pytest.approx(table["normalized_gini"].iloc[1])
    assert rmse(revenue, expected) < rmse(revenue, 2.0 * expected)
    assert chosen == "exact"


def test_chooser_uses_the_configured_metric(validation):
    features, revenue, expected = validation
    # Predicting 0 everywhere: Gini 0 but the lowest MAE (revenue is mostly 0).
    candidates = {"expected": Fixed(expected), "zeros": Fixed(np.zeros(ROWS))}
    assert choose_revenue_model(candidates, features, revenue)[0] == "expected"
    assert choose_revenue_model(candidates, features, revenue, metric="mae")[0] == "zeros"
    assert (
        choose_revenue_model(candidates, features, revenue, metric="abs_total_relative_error")[0]
        == "expected"
    )
    with pytest.raises(ValueError, match="expected one of"):
        choose_revenue_model(candidates, features, revenue, metric="r2")

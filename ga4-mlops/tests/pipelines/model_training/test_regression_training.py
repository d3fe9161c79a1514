"""The regression problem type through the training nodes: baseline, tuning, refit,
calibration of the total, test predictions (by configuration only)."""

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression

from ga4_mlops.pipelines.feature_engineering.nodes import (
    encode_features,
    fit_preprocessor,
    split_by_date,
)
from ga4_mlops.pipelines.model_evaluation.regression_metrics import normalized_gini
from ga4_mlops.pipelines.model_training.nodes import (
    calibration_method,
    fit_calibrator,
    predict_test_set,
    train_baseline,
    train_model,
    tune_hyperparameters,
)
from ga4_mlops.pipelines.model_training.regression import TwoPartRevenueRegressor
from ga4_mlops.pipelines.model_training.regression_steps import (
    LookbackBaseline,
    fit_regression_calibration,
)
from ga4_mlops.revenue_models import ScaledRegressor
from tests.conftest import CHURN_COLUMNS, make_churn_table, small_model_params


def make_revenue_table(seed: int = 3) -> pd.DataFrame:
    """The churn-like table with a spend: who buys depends on tenure and plan, how much on
    the plan; last period's spend is a (noisy) feature. The last date has no label."""
    table = make_churn_table(n_customers=1500)
    rng = np.random.default_rng(seed)
    tenure, plan = table["tenure_months"].to_numpy(), table["plan"].to_numpy()
    buys = rng.random(len(table)) < np.where(tenure > 12, 0.25, 0.08)
    amount = rng.gamma(2.0, np.where(plan == "pro", 60.0, 20.0))
    table["spend_next"] = np.where(buys, np.round(amount, 2), 0.0)
    table["spend_last"] = np.where(
        rng.random(len(table)) < np.where(tenure > 12, 0.25, 0.08), rng.gamma(2.0, 30.0), 0.0
    )
    table.loc[table["churned"].isna(), "spend_next"] = np.nan
    return table


REVENUE_COLUMNS = {
    **CHURN_COLUMNS,
    "problem_type": "regression",
    "target": "spend_next",
    "other_targets": ["churned"],
    "numeric": ["tenure_months", "support_tickets", "spend_last"],
}


@pytest.fixture(scope="module")
def prepared(churn_splits_module):
    table = make_revenue_table()
    train, validation, calibration, test, _ = split_by_date(
        table, REVENUE_COLUMNS, churn_splits_module
    )
    preprocessor = fit_preprocessor(train, REVENUE_COLUMNS, {"min_category_count": 5})
    sets = {"train": train, "validation": validation, "calibration": calibration, "test": test}
    features = {name: encode_features(preprocessor, data) for name, data in sets.items()}
    return sets, features


@pytest.fixture(scope="module")
def churn_splits_module():
    from tests.conftest import CHURN_SPLITS

    return {key: list(value) for key, value in CHURN_SPLITS.items()}


def regression_params(kind, n_trials: int = 3) -> dict:
    """Quick settings for the regression kinds (a list: choose between them)."""
    kinds = [kind] if isinstance(kind, str) else kind
    params = small_model_params(kinds[0], n_trials=n_trials)
    for name in kinds:
        settings = params["kinds"][name]
        settings["early_stopping_rounds"] = 20
        for key in list(settings["fixed"]):
            if key.endswith("learning_rate"):
                settings["fixed"][key] = 0.1
            if key == "n_jobs":
                settings["fixed"][key] = 1
    return {**params, "kind": kind}


def test_splits_keep_amounts_and_refuse_a_negative_one():
    table = make_revenue_table()
    from tests.conftest import CHURN_SPLITS

    splits = {key: list(value) for key, value in CHURN_SPLITS.items()}
    train, *_ = split_by_date(table, REVENUE_COLUMNS, splits)
    assert train["spend_next"].dtype == "float64" and train["spend_next"].max() > 1
    table.loc[0, "spend_next"] = -5.0
    with pytest.raises(ValueError, match=r"column 'spend_next' must hold amounts >= 0"):
        split_by_date(table, REVENUE_COLUMNS, splits)


def test_the_baseline_forecasts_the_lookback_amount(prepared):
    sets, features = prepared
    baseline = train_baseline(
        features["train"], sets["train"], REVENUE_COLUMNS, {"column": "spend_last", "scale": 2.0}
    )
    assert isinstance(baseline, LookbackBaseline)
    expected = sets["test"]["spend_last"].to_numpy() * 2.0
    assert np.allclose(baseline.predict(features["test"]), expected)
    with pytest.raises(ValueError, match=r"baseline.column: 'revenue' is not a feature"):
        train_baseline(features["train"], sets["train"], REVENUE_COLUMNS, {"column": "revenue"})


@pytest.mark.parametrize(
    ("kind", "model_type"), [("tweedie", lgb.LGBMRegressor), ("two_part", TwoPartRevenueRegressor)]
)
def test_each_regression_kind_tunes_on_the_gini_and_refits(prepared, kind, model_type):
    sets, features = prepared
    params = regression_params(kind)
    best, trials = tune_hyperparameters(
        features["train"],
        sets["train"],
        features["validation"],
        sets["validation"],
        REVENUE_COLUMNS,
        params,
    )
    assert len(trials) == 3 and "kind" not in best
    model = train_model(
        features["train"], sets["train"], REVENUE_COLUMNS, best, params, features["validation"]
    )
    assert isinstance(model, model_type)
    # the trial values are the validation Gini of each trial's model: the best is recomputed
    refit_on_train = train_model(features["train"], sets["train"], REVENUE_COLUMNS, best, params)
    gini = normalized_gini(
        sets["validation"]["spend_next"], refit_on_train.predict(features["validation"])
    )
    assert gini == pytest.approx(trials["value"].max(), abs=0.02)
    # the early-stopped rounds are kept for the refit
    learned = [name for name in best if name.endswith("n_estimators")]
    assert learned and all(best[name] < 2000 for name in learned)


def test_a_list_of_kinds_keeps_the_best_on_validation(prepared):
    sets, features = prepared
    params = regression_params(["tweedie", "two_part"])
    best, trials = tune_hyperparameters(
        features["train"],
        sets["train"],
        features["validation"],
        sets["validation"],
        REVENUE_COLUMNS,
        params,
    )
    best_by_kind = trials.groupby("kind")["value"].max()
    assert sorted(best_by_kind.index) == ["tweedie", "two_part"]
    assert best["kind"] == best_by_kind.idxmax()
    model = train_model(
        features["train"],
        sets["train"],
        REVENUE_COLUMNS,
        best,
        params,
        features["validation"],
        sets["validation"],
    )
    expected = lgb.LGBMRegressor if best["kind"] == "tweedie" else TwoPartRevenueRegressor
    assert isinstance(model, expected)


def test_a_kind_of_the_other_problem_type_is_refused(prepared):
    sets, features = prepared
    params = regression_params("tweedie")
    with pytest.raises(
        ValueError, match=r"'lightgbm' is a binary/multiclass model but .* is 'regression'"
    ):
        tune_hyperparameters(
            features["train"],
            sets["train"],
            features["validation"],
            sets["validation"],
            REVENUE_COLUMNS,
            {**params, "kind": "lightgbm"},
        )


def _half_model(features: pd.DataFrame, target: np.ndarray) -> LinearRegression:
    """A real regressor whose predictions add up to half the truth."""
    return LinearRegression().fit(features, target / 2.0)


def test_calibration_scales_a_model_that_misses_the_total(prepared):
    sets, features = prepared
    target = sets["calibration"]["spend_next"].to_numpy()
    model = _half_model(features["calibration"], target)
    params = {"methods": ["none", "scale"], "cv_folds": 5, "seed": 7}
    calibrator, selection, metrics = fit_calibrator(
        model, features["calibration"], sets["calibration"], REVENUE_COLUMNS, params
    )
    assert selection["method"] == "scale" and isinstance(calibrator, ScaledRegressor)
    assert calibration_method(calibrator) == "scale"
    assert selection["scale_factor"] == pytest.approx(2.0, rel=1e-6)
    total = calibrator.predict(features["calibration"]).sum()
    assert total == pytest.approx(target.sum(), rel=1e-6)
    assert set(metrics) == {"cv_rmse.none", "cv_rmse.scale"}
    # a model whose total is already right keeps its predictions
    exact = LinearRegression().fit(features["calibration"], target)
    kept, choice, _ = fit_regression_calibration(exact, features["calibration"], target, params)
    assert choice["method"] == "none" and isinstance(kept, FrozenEstimator)
    with pytest.raises(ValueError, match=r"for problem_type regression, got \['isotonic'\]"):
        fit_regression_calibration(
            model, features["calibration"], target, {"methods": ["isotonic"]}
        )


def test_test_predictions_are_amounts_of_the_three_models(prepared):
    sets, features = prepared
    target = sets["train"]["spend_next"].to_numpy()
    model = _half_model(features["train"], target)
    baseline = LookbackBaseline("spend_last").fit(features["train"])
    predictions = predict_test_set(
        sets["test"],
        features["test"],
        baseline,
        model,
        ScaledRegressor(model, 2.0),
        REVENUE_COLUMNS,
    )
    assert list(predictions.columns) == [
        "customer_id",
        "as_of",
        "spend_next",
        "baseline_prediction",
        "raw_prediction",
        "calibrated_prediction",
    ]
    assert np.allclose(predictions["calibrated_prediction"], 2 * predictions["raw_prediction"])
    assert np.allclose(predictions["baseline_prediction"], sets["test"]["spend_last"])

"""The multiclass problem type through the training nodes and the served model: baseline,
tuning on multiclass log loss, refit, no calibration, per-class test predictions."""

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss

from ga4_mlops.pipelines.feature_engineering.nodes import (
    encode_features,
    fit_preprocessor,
    split_by_date,
)
from ga4_mlops.pipelines.model_training.nodes import (
    calibration_method,
    fit_calibrator,
    predict_test_set,
    train_baseline,
    train_model,
    tune_hyperparameters,
)
from ga4_mlops.problem_types import class_score_columns, target_values
from ga4_mlops.scoring_model import PropensityModel
from tests.conftest import CHURN_COLUMNS, CHURN_SPLITS, make_churn_table, small_model_params

CLASSES = ["(none)", "upgrade", "Campus Collection"]
MULTICLASS_COLUMNS = {
    **CHURN_COLUMNS,
    "problem_type": "multiclass",
    "target": "next_action",
    "classes": CLASSES,
    "other_targets": ["churned"],
}


def make_action_table(seed: int = 5) -> pd.DataFrame:
    """The churn-like table with a three-way next action that tenure and plan decide."""
    table = make_churn_table(n_customers=1500)
    rng = np.random.default_rng(seed)
    tenure, plan = table["tenure_months"].to_numpy(), table["plan"].to_numpy()
    upgrade = np.where(plan == "basic", 0.35, 0.05)
    campus = np.where(tenure > 25, 0.4, 0.05)
    draw = rng.random(len(table))
    action = np.where(
        draw < upgrade, "upgrade", np.where(draw < upgrade + campus, "Campus Collection", "(none)")
    )
    table["next_action"] = np.where(table["churned"].isna(), None, action)
    return table


def multiclass_params(n_trials: int) -> dict:
    """base's LightGBM settings with the objective conf/multiclass sets."""
    params = small_model_params("lightgbm", n_trials=n_trials)
    params["kinds"]["lightgbm"]["fixed"]["objective"] = "multiclass"
    return params


@pytest.fixture(scope="module")
def prepared():
    splits = {key: list(value) for key, value in CHURN_SPLITS.items()}
    train, validation, calibration, test, _ = split_by_date(
        make_action_table(), MULTICLASS_COLUMNS, splits
    )
    preprocessor = fit_preprocessor(train, MULTICLASS_COLUMNS, {"min_category_count": 5})
    sets = {"train": train, "validation": validation, "calibration": calibration, "test": test}
    features = {name: encode_features(preprocessor, data) for name, data in sets.items()}
    return preprocessor, sets, features


@pytest.fixture(scope="module")
def trained(prepared):
    _, sets, features = prepared
    params = multiclass_params(n_trials=3)
    best, trials = tune_hyperparameters(
        features["train"],
        sets["train"],
        features["validation"],
        sets["validation"],
        MULTICLASS_COLUMNS,
        params,
    )
    model = train_model(features["train"], sets["train"], MULTICLASS_COLUMNS, best, params)
    baseline = train_baseline(
        features["train"], sets["train"], MULTICLASS_COLUMNS, {"C": 1.0, "max_iter": 500}
    )
    return best, trials, model, baseline


def test_target_values_are_positions_in_the_configured_classes_and_refuse_others():
    data = pd.DataFrame({"next_action": ["upgrade", "(none)", "Campus Collection"]})
    assert target_values(data, MULTICLASS_COLUMNS).tolist() == [1, 0, 2]
    with pytest.raises(ValueError, match=r"'next_action' holds 1 value.*\['downgrade'\]"):
        target_values(pd.DataFrame({"next_action": ["downgrade", "upgrade"]}), MULTICLASS_COLUMNS)
    assert class_score_columns("raw", MULTICLASS_COLUMNS) == [
        "raw_probability_none",
        "raw_probability_upgrade",
        "raw_probability_campus_collection",
    ]


def test_splits_refuse_a_label_outside_the_classes(prepared):
    table = make_action_table()
    table.loc[table["next_action"] == "upgrade", "next_action"] = "upgrade!"
    splits = {key: list(value) for key, value in CHURN_SPLITS.items()}
    with pytest.raises(ValueError, match=r"'next_action' holds \['upgrade!'\] in split 'train'"):
        split_by_date(table, MULTICLASS_COLUMNS, splits)


def test_tuning_minimises_multiclass_log_loss_and_the_model_beats_its_baseline(prepared, trained):
    _, sets, features = prepared
    best, trials, model, baseline = trained
    assert best["n_estimators"] >= 1 and len(trials) == 3
    assert model.classes_.tolist() == [0, 1, 2]
    target = target_values(sets["test"], MULTICLASS_COLUMNS)
    model_loss = log_loss(target, model.predict_proba(features["test"]), labels=[0, 1, 2])
    prior = np.bincount(target_values(sets["train"], MULTICLASS_COLUMNS)) / len(sets["train"])
    prior_loss = log_loss(target, np.tile(prior, (len(target), 1)), labels=[0, 1, 2])
    baseline_loss = log_loss(target, baseline.predict_proba(features["test"]), labels=[0, 1, 2])
    # both learn the tenure and plan rules the table was drawn from; the prior cannot
    assert model_loss < 0.9 * prior_loss and baseline_loss < 0.9 * prior_loss
    # Optuna's value is each trial's validation multiclass log loss: below the prior's
    validation = target_values(sets["validation"], MULTICLASS_COLUMNS)
    prior_validation = np.tile(prior, (len(validation), 1))
    assert trials["value"].min() < 0.95 * log_loss(validation, prior_validation, labels=[0, 1, 2])


def test_a_class_missing_from_train_is_named(prepared):
    _, sets, features = prepared
    columns = {**MULTICLASS_COLUMNS, "classes": [*CLASSES, "refund"]}
    with pytest.raises(ValueError, match=r"no row of the class\(es\) \['refund'\]"):
        tune_hyperparameters(
            features["train"],
            sets["train"],
            features["validation"],
            sets["validation"],
            columns,
            multiclass_params(n_trials=1),
        )


def test_no_calibration_and_one_probability_column_per_class(prepared, trained):
    _, sets, features = prepared
    _, _, model, baseline = trained
    calibrator, selection, metrics = fit_calibrator(
        model, features["calibration"], sets["calibration"], MULTICLASS_COLUMNS, {}
    )
    assert isinstance(calibrator, FrozenEstimator) and metrics == {}
    assert selection["method"] == calibration_method(calibrator) == "none"
    predictions = predict_test_set(
        sets["test"], features["test"], baseline, model, calibrator, MULTICLASS_COLUMNS
    )
    for role in ("baseline", "raw", "calibrated"):
        block = predictions[class_score_columns(role, MULTICLASS_COLUMNS)].to_numpy()
        np.testing.assert_allclose(block.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        predictions[class_score_columns("raw", MULTICLASS_COLUMNS)].to_numpy(),
        model.predict_proba(features["test"]),
    )
    assert predictions["next_action"].tolist() == sets["test"]["next_action"].tolist()


def test_the_served_model_names_each_class_and_the_most_likely_one(prepared, trained):
    preprocessor, sets, features = prepared
    _, _, model, _ = trained
    served = PropensityModel(
        preprocessor, model, FrozenEstimator(model), problem_type="multiclass", classes=CLASSES
    )
    rows = sets["test"][[*CHURN_COLUMNS["numeric"], *CHURN_COLUMNS["categorical"]]]
    scores = served.predict(None, rows)
    expected = model.predict_proba(features["test"])
    np.testing.assert_allclose(
        scores[class_score_columns("calibrated", MULTICLASS_COLUMNS)].to_numpy(), expected
    )
    assert scores["predicted_class"].tolist() == [CLASSES[i] for i in expected.argmax(axis=1)]
    with pytest.raises(ValueError, match=r"columns\.classes must list at least two"):
        PropensityModel(preprocessor, model, model, problem_type="multiclass", classes=["x"])

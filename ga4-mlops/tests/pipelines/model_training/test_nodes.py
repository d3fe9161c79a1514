import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from ga4_mlops.pipelines.feature_engineering.nodes import (
    encode_features,
    fit_preprocessor,
    split_by_date,
)
from ga4_mlops.pipelines.model_training.nodes import (
    _row_sample,
    fit_calibrator,
    predict_test_set,
    train_baseline,
    train_model,
    tune_hyperparameters,
)

LIGHTGBM_PARAMS = {
    "seed": 7,
    "early_stopping_rounds": 20,
    "fixed": {
        "objective": "binary",
        "n_estimators": 300,
        "learning_rate": 0.1,
        "random_state": 7,
        "deterministic": True,
        "force_col_wise": True,
        "n_jobs": 1,
        "verbosity": -1,
    },
    "optuna": {
        "n_trials": 4,
        "report_every": 5,
        "pruner_startup_trials": 2,
        "pruner_warmup_steps": 10,
        "search_space": {
            "num_leaves": {"type": "int", "low": 4, "high": 32, "log": True},
            "min_child_samples": {"type": "int", "low": 10, "high": 100},
        },
    },
}


@pytest.fixture
def prepared(churn_table, churn_columns, churn_splits):
    train, validation, calibration, test, _ = split_by_date(
        churn_table, churn_columns, churn_splits
    )
    preprocessor = fit_preprocessor(train, churn_columns, {"min_category_count": 5})
    sets = {"train": train, "validation": validation, "calibration": calibration, "test": test}
    features = {name: encode_features(preprocessor, data) for name, data in sets.items()}
    return sets, features


def _tune_and_train(prepared, columns):
    sets, features = prepared
    best, trials = tune_hyperparameters(
        features["train"],
        sets["train"],
        features["validation"],
        sets["validation"],
        columns,
        LIGHTGBM_PARAMS,
    )
    model = train_model(
        features["train"],
        sets["train"],
        columns,
        best,
        features["validation"],
        sets["validation"],
    )
    return best, trials, model


def test_tuning_is_reproducible_and_keeps_the_early_stopped_tree_count(prepared, churn_columns):
    best, trials, model = _tune_and_train(prepared, churn_columns)
    best_again, trials_again, model_again = _tune_and_train(prepared, churn_columns)
    assert best == best_again
    assert trials["value"].tolist() == trials_again["value"].tolist()
    assert len(trials) == 4
    assert 1 <= best["n_estimators"] <= 300
    features = prepared[1]["test"]
    assert np.array_equal(model.predict_proba(features), model_again.predict_proba(features))
    # the refit keeps the early-stopped tree count and learns from validation too
    assert model.booster_.num_trees() == best["n_estimators"]
    sets, encoded = prepared
    train_only = train_model(encoded["train"], sets["train"], churn_columns, best)
    assert not np.array_equal(model.predict_proba(features), train_only.predict_proba(features))


def test_row_sample_is_seeded_aligned_and_whole_below_the_cap(prepared, churn_columns):
    sets, features = prepared
    train, encoded = sets["train"], features["train"]
    assert _row_sample(encoded, train, None, 7, "test")[0] is encoded
    assert _row_sample(encoded, train, len(encoded), 7, "test")[0] is encoded
    cap = len(encoded) // 2
    sample, sample_set = _row_sample(encoded, train, cap, 7, "test")
    again, _ = _row_sample(encoded, train, cap, 7, "test")
    other, _ = _row_sample(encoded, train, cap, 8, "test")
    assert len(sample) == len(sample_set) == cap
    assert sample.index.equals(again.index) and not sample.index.equals(other.index)
    # rows keep their order and each feature row still sits beside its own target row
    assert (np.diff(encoded.index.get_indexer(sample.index)) > 0).all()
    assert sample.index.equals(sample_set.index)


def test_the_refit_is_bounded_by_max_refit_rows(prepared, churn_columns):
    sets, features = prepared
    best = {**LIGHTGBM_PARAMS["fixed"], "n_estimators": 30}
    rows = len(features["train"]) + len(features["validation"])
    splits = (features["train"], sets["train"], churn_columns, best)
    validation = (features["validation"], sets["validation"])
    whole = train_model(*splits, *validation)
    uncapped = train_model(*splits, *validation, {"max_refit_rows": rows, "seed": 0})
    capped = train_model(*splits, *validation, {"max_refit_rows": rows // 3, "seed": 0})
    test = features["test"]
    assert np.array_equal(whole.predict_proba(test), uncapped.predict_proba(test))
    assert not np.array_equal(whole.predict_proba(test), capped.predict_proba(test))
    assert capped.n_features_in_ == whole.n_features_in_


CALIBRATION = {"methods": ["none", "sigmoid", "isotonic"], "cv_folds": 3, "seed": 0}


def test_models_learn_the_planted_signal_and_calibration_uses_its_own_split(
    prepared, churn_columns
):
    sets, features = prepared
    _, _, classifier = _tune_and_train(prepared, churn_columns)
    baseline = train_baseline(
        features["train"], sets["train"], churn_columns, {"C": 1.0, "max_iter": 1000}
    )
    calibrator, selection, metrics = fit_calibrator(
        classifier, features["calibration"], sets["calibration"], churn_columns, CALIBRATION
    )
    predictions = predict_test_set(
        sets["test"], features["test"], baseline, classifier, calibrator, churn_columns
    )
    assert list(predictions.columns) == [
        "customer_id",
        "as_of",
        "churned",
        "baseline_probability",
        "raw_probability",
        "calibrated_probability",
    ]
    target = predictions["churned"]
    assert roc_auc_score(target, predictions["raw_probability"]) > 0.7
    assert roc_auc_score(target, predictions["baseline_probability"]) > 0.6
    assert predictions["calibrated_probability"].between(0, 1).all()
    # the choice is the method with the lowest cross-validated log loss, reported as metrics
    losses = selection["cv_log_loss"]
    assert set(losses) == {"none", "sigmoid", "isotonic"}
    assert selection["method"] == min(losses, key=losses.get)
    assert metrics == {f"cv_log_loss.{m}": {"value": v, "step": 0} for m, v in losses.items()}


def _overconfident_model(prepared, columns):
    """A LightGBM model whose probabilities are far too high: positives weighted 10 times."""
    sets, features = prepared
    return train_model(
        features["train"],
        sets["train"],
        columns,
        {**LIGHTGBM_PARAMS["fixed"], "n_estimators": 60, "scale_pos_weight": 10.0},
    )


def test_calibration_is_chosen_on_the_calibration_split_and_fixes_a_biased_model(
    prepared, churn_columns
):
    sets, features = prepared
    model = _overconfident_model(prepared, churn_columns)
    calibrator, selection, _ = fit_calibrator(
        model, features["calibration"], sets["calibration"], churn_columns, CALIBRATION
    )
    # "none" keeps the bias, so cross-validation must pick a real calibration
    assert selection["method"] in {"sigmoid", "isotonic"}
    assert selection["cv_log_loss"]["none"] > selection["cv_log_loss"][selection["method"]]
    raw = model.predict_proba(features["calibration"])[:, 1]
    calibrated = calibrator.predict_proba(features["calibration"])[:, 1]
    rate = sets["calibration"]["churned"].mean()
    assert abs(calibrated.mean() - rate) < 0.02 < abs(raw.mean() - rate)
    # the model itself is frozen: calibration never refits it
    frozen = calibrator.calibrated_classifiers_[0].estimator
    assert np.array_equal(
        frozen.predict_proba(features["test"]), model.predict_proba(features["test"])
    )


def test_calibration_none_passes_scores_through_and_unknown_method_is_named(
    prepared, churn_columns
):
    sets, features = prepared
    model = _overconfident_model(prepared, churn_columns)
    identity, selection, _ = fit_calibrator(
        model,
        features["calibration"],
        sets["calibration"],
        churn_columns,
        {**CALIBRATION, "methods": ["none"]},
    )
    assert selection["method"] == "none"
    assert np.array_equal(
        identity.predict_proba(features["test"]), model.predict_proba(features["test"])
    )
    with pytest.raises(ValueError, match=r"calibration.methods must be a non-empty list of"):
        fit_calibrator(
            model,
            features["calibration"],
            sets["calibration"],
            churn_columns,
            {**CALIBRATION, "methods": ["beta"]},
        )


def test_calibration_losses_equal_cross_validating_the_wrapped_model(prepared, churn_columns):
    """The model is scored once; its scores must give what wrapping the model itself gives."""
    sets, features = prepared
    model = _overconfident_model(prepared, churn_columns)
    _, selection, _ = fit_calibrator(
        model, features["calibration"], sets["calibration"], churn_columns, CALIBRATION
    )
    target = sets["calibration"]["churned"].to_numpy()
    folds = StratifiedKFold(
        n_splits=CALIBRATION["cv_folds"], shuffle=True, random_state=CALIBRATION["seed"]
    )
    for method in ("sigmoid", "isotonic"):
        direct = cross_val_predict(
            CalibratedClassifierCV(FrozenEstimator(model), method=method),
            features["calibration"],
            target,
            cv=folds,
            method="predict_proba",
        )[:, 1]
        assert selection["cv_log_loss"][method] == pytest.approx(
            log_loss(target, direct, labels=[0, 1]), rel=1e-12
        )
    raw = model.predict_proba(features["calibration"])[:, 1]
    assert selection["cv_log_loss"]["none"] == pytest.approx(
        log_loss(target, raw, labels=[0, 1]), rel=1e-9
    )

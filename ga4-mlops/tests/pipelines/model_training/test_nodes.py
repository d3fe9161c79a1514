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
from ga4_mlops.pipelines.model_training.estimator import (
    KINDS,
    kind_settings,
    make_classifier,
    problem_types_of,
)
from ga4_mlops.pipelines.model_training.nodes import (
    _row_sample,
    fit_calibrator,
    predict_test_set,
    train_baseline,
    train_model,
    tune_hyperparameters,
)
from tests.conftest import model_params, small_model_params

# Every test that trains a classifier runs for each binary kind estimator.py builds, with
# base's settings (the regression kinds: test_regression_training.py).
KIND_NAMES = sorted(kind for kind in KINDS if "binary" in problem_types_of(kind))


def test_base_picks_lightgbm_and_configures_every_kind():
    base = model_params()
    assert base["kind"] == "lightgbm"
    assert set(base["kinds"]) == set(KINDS)
    assert type(make_classifier(base["kind"], kind_settings(base)["fixed"])).__name__ == (
        "LGBMClassifier"
    )
    with pytest.raises(ValueError, match=r"kind: 'forest' needs a class in KINDS"):
        kind_settings({**base, "kind": "forest"})


def test_make_classifier_builds_a_different_classifier_for_each_kind():
    built = {kind: make_classifier(kind, {}) for kind in KIND_NAMES}
    assert len({type(classifier) for classifier in built.values()}) == len(KIND_NAMES)
    assert all(hasattr(classifier, "predict_proba") for classifier in built.values())


@pytest.fixture
def prepared(churn_table, churn_columns, churn_splits):
    train, validation, calibration, test, _ = split_by_date(
        churn_table, churn_columns, churn_splits
    )
    preprocessor = fit_preprocessor(train, churn_columns, {"min_category_count": 5})
    sets = {"train": train, "validation": validation, "calibration": calibration, "test": test}
    features = {name: encode_features(preprocessor, data) for name, data in sets.items()}
    return sets, features


def _tune_and_train(prepared, columns, params):
    sets, features = prepared
    best, trials = tune_hyperparameters(
        features["train"],
        sets["train"],
        features["validation"],
        sets["validation"],
        columns,
        params,
    )
    model = train_model(
        features["train"],
        sets["train"],
        columns,
        best,
        params,
        features["validation"],
        sets["validation"],
    )
    return best, trials, model


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_tuning_is_reproducible_and_the_refit_keeps_what_fitting_chose(
    prepared, churn_columns, kind
):
    params = small_model_params(kind)
    best, trials, model = _tune_and_train(prepared, churn_columns, params)
    best_again, trials_again, model_again = _tune_and_train(prepared, churn_columns, params)
    assert isinstance(model, type(make_classifier(kind, {})))
    assert best == best_again
    assert trials["value"].tolist() == trials_again["value"].tolist()
    assert len(trials) == 4
    features = prepared[1]["test"]
    assert np.array_equal(model.predict_proba(features), model_again.predict_proba(features))
    # what fitting chose (the early-stopped round count) is kept: the refit runs that many
    learned = [name[len("user_attrs_") :] for name in trials if name.startswith("user_attrs_")]
    assert len(learned) == 1
    assert 1 <= best[learned[0]] <= kind_settings(params)["fixed"][learned[0]]
    assert model.get_params()[learned[0]] == model.n_iter_ == best[learned[0]]
    # the refit learns from validation too
    sets, encoded = prepared
    train_only = train_model(encoded["train"], sets["train"], churn_columns, best, params)
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


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_the_refit_is_bounded_by_max_refit_rows(prepared, churn_columns, kind):
    sets, features = prepared
    params = small_model_params(kind)
    best = _quick_hyperparameters(prepared, churn_columns, params)
    rows = len(features["train"]) + len(features["validation"])
    splits = (features["train"], sets["train"], churn_columns, best)
    validation = (features["validation"], sets["validation"])
    whole = train_model(*splits, params, *validation)
    uncapped = train_model(*splits, {**params, "max_refit_rows": rows, "seed": 0}, *validation)
    capped = train_model(*splits, {**params, "max_refit_rows": rows // 3, "seed": 0}, *validation)
    test = features["test"]
    assert np.array_equal(whole.predict_proba(test), uncapped.predict_proba(test))
    assert not np.array_equal(whole.predict_proba(test), capped.predict_proba(test))
    assert capped.n_features_in_ == whole.n_features_in_


def _quick_hyperparameters(prepared, columns, params):
    """Tuned hyperparameters of one trial: whatever the kind, a modest early-stopped model."""
    sets, features = prepared
    best, _ = tune_hyperparameters(
        features["train"],
        sets["train"],
        features["validation"],
        sets["validation"],
        columns,
        {**params, "optuna": {**params["optuna"], "n_trials": 1}},
    )
    return best


CALIBRATION = {"methods": ["none", "sigmoid", "isotonic"], "cv_folds": 3, "seed": 0}


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_models_learn_the_planted_signal_and_calibration_uses_its_own_split(
    prepared, churn_columns, kind
):
    sets, features = prepared
    _, _, classifier = _tune_and_train(prepared, churn_columns, small_model_params(kind))
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


def _overconfident_model(prepared, columns, kind):
    """A model whose probabilities are far too high: positives weighted 10 times."""
    sets, features = prepared
    params = small_model_params(kind)
    best = _quick_hyperparameters(prepared, columns, params)
    return train_model(
        features["train"],
        sets["train"],
        columns,
        {**best, "class_weight": {0: 1.0, 1: 10.0}},
        params,
    )


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_calibration_is_chosen_on_the_calibration_split_and_fixes_a_biased_model(
    prepared, churn_columns, kind
):
    sets, features = prepared
    model = _overconfident_model(prepared, churn_columns, kind)
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


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_calibration_none_passes_scores_through_and_unknown_method_is_named(
    prepared, churn_columns, kind
):
    sets, features = prepared
    model = _overconfident_model(prepared, churn_columns, kind)
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


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_calibration_losses_equal_cross_validating_the_wrapped_model(prepared, churn_columns, kind):
    """The model is scored once; its scores must give what wrapping the model itself gives."""
    sets, features = prepared
    model = _overconfident_model(prepared, churn_columns, kind)
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

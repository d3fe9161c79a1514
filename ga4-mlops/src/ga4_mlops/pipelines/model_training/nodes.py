"""Train the baseline and the LightGBM model, tune it with Optuna, calibrate it.

Every split plays one role: train fits, validation tunes and early-stops, calibration fits
the calibrator, test only measures (in model_evaluation). Nothing here ever sees test labels.
"""

import logging
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import optuna
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline as SklearnPipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

logger = logging.getLogger(__name__)


def _target(data: pd.DataFrame, columns: dict[str, Any]) -> np.ndarray:
    return data[columns["target"]].to_numpy(dtype="int64")


def _categorical_features(features: pd.DataFrame, columns: dict[str, Any]) -> list[str]:
    return [column for column in columns["categorical"] if column in features.columns]


def train_baseline(
    train_features: pd.DataFrame,
    train_set: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> SklearnPipeline:
    """A logistic regression on scaled numerics and one-hot categories: the bar to beat."""
    categorical = _categorical_features(train_features, columns)
    numeric = [column for column in train_features.columns if column not in categorical]
    model = SklearnPipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        ("numeric", StandardScaler(), numeric),
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                    ]
                ),
            ),
            ("classifier", LogisticRegression(C=params["C"], max_iter=params["max_iter"])),
        ]
    )
    return model.fit(train_features, _target(train_set, columns))


class _OptunaPruningCallback:
    """Report the validation loss to Optuna during boosting and stop hopeless trials.

    The optuna-integration package has one; this is the few lines it takes, without the
    extra dependency.
    """

    order = 30

    def __init__(self, trial: optuna.Trial, report_every: int) -> None:
        self.trial = trial
        self.report_every = report_every

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        if env.iteration % self.report_every:
            return
        _, _, loss, _ = env.evaluation_result_list[0]
        self.trial.report(loss, step=env.iteration)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at iteration {env.iteration}")


def _suggest(trial: optuna.Trial, search_space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    suggested = {}
    for name, space in search_space.items():
        if space["type"] == "int":
            suggested[name] = trial.suggest_int(
                name, space["low"], space["high"], log=space.get("log", False)
            )
        elif space["type"] == "float":
            suggested[name] = trial.suggest_float(
                name, space["low"], space["high"], log=space.get("log", False)
            )
        else:
            raise ValueError(
                f"params model_training.optuna.search_space.{name}: unknown type {space['type']!r}"
            )
    return suggested


def _fit_lightgbm(
    hyperparameters: dict[str, Any],
    train_features: pd.DataFrame,
    train_target: np.ndarray,
    validation_features: pd.DataFrame,
    validation_target: np.ndarray,
    categorical: list[str],
    early_stopping_rounds: int,
    callbacks: list | None = None,
) -> lgb.LGBMClassifier:
    model = lgb.LGBMClassifier(**hyperparameters)
    model.fit(
        train_features,
        train_target,
        eval_X=validation_features,
        eval_y=validation_target,
        eval_metric="binary_logloss",
        categorical_feature=categorical,
        callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False), *(callbacks or [])],
    )
    return model


def tune_lightgbm(
    train_features: pd.DataFrame,
    train_set: pd.DataFrame,
    validation_features: pd.DataFrame,
    validation_set: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Search LightGBM hyperparameters on the validation log loss.

    A seeded TPE sampler and a fixed trial count (no timeout) keep the search reproducible.
    Returns the best hyperparameters (with the early-stopped tree count) and all trials.
    """
    categorical = _categorical_features(train_features, columns)
    train_target, validation_target = _target(train_set, columns), _target(validation_set, columns)
    tuning = params["optuna"]

    def objective(trial: optuna.Trial) -> float:
        hyperparameters = {**params["fixed"], **_suggest(trial, tuning["search_space"])}
        model = _fit_lightgbm(
            hyperparameters,
            train_features,
            train_target,
            validation_features,
            validation_target,
            categorical,
            params["early_stopping_rounds"],
            callbacks=[_OptunaPruningCallback(trial, tuning["report_every"])],
        )
        trial.set_user_attr("best_iteration", int(model.best_iteration_ or model.n_estimators))
        return float(log_loss(validation_target, model.predict_proba(validation_features)[:, 1]))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=params["seed"]),
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=tuning["pruner_startup_trials"],
            n_warmup_steps=tuning["pruner_warmup_steps"],
        ),
    )
    study.optimize(objective, n_trials=tuning["n_trials"])
    best = study.best_trial
    logger.info(
        "Optuna: best validation log loss %.5f in trial %d of %d (%d pruned)",
        best.value,
        best.number,
        len(study.trials),
        sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
    )
    best_hyperparameters = {
        **params["fixed"],
        **best.params,
        "n_estimators": best.user_attrs["best_iteration"],
    }
    trials = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs"))
    trials["state"] = trials["state"].astype(str)
    return best_hyperparameters, trials


def train_lightgbm(
    train_features: pd.DataFrame,
    train_set: pd.DataFrame,
    columns: dict[str, Any],
    best_hyperparameters: dict[str, Any],
) -> lgb.LGBMClassifier:
    """Refit the best configuration on train with the tree count early stopping chose."""
    model = lgb.LGBMClassifier(**best_hyperparameters)
    return model.fit(
        train_features,
        _target(train_set, columns),
        categorical_feature=_categorical_features(train_features, columns),
    )


@dataclass
class ProbabilityCalibrator:
    """Maps raw model probabilities to calibrated ones (isotonic or Platt sigmoid)."""

    method: str
    isotonic: IsotonicRegression | None = None
    sigmoid: LogisticRegression | None = None

    def predict(self, raw_probability: np.ndarray) -> np.ndarray:
        raw_probability = np.asarray(raw_probability, dtype="float64")
        if self.method == "isotonic":
            return self.isotonic.predict(raw_probability)
        return self.sigmoid.predict_proba(_logit(raw_probability).reshape(-1, 1))[:, 1]


def _logit(probability: np.ndarray) -> np.ndarray:
    clipped = np.clip(probability, 1e-7, 1 - 1e-7)
    return np.log(clipped / (1 - clipped))


def fit_calibrator(
    lightgbm_model: lgb.LGBMClassifier,
    calibration_features: pd.DataFrame,
    calibration_set: pd.DataFrame,
    columns: dict[str, Any],
    params: dict[str, Any],
) -> ProbabilityCalibrator:
    """Fit the calibrator on the calibration split only: never on train, never on test."""
    raw_probability = lightgbm_model.predict_proba(calibration_features)[:, 1]
    target = _target(calibration_set, columns)
    method = params["method"]
    if method == "isotonic":
        isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        return ProbabilityCalibrator(method, isotonic=isotonic.fit(raw_probability, target))
    if method == "sigmoid":
        sigmoid = LogisticRegression(C=1e6, max_iter=1000)
        return ProbabilityCalibrator(
            method, sigmoid=sigmoid.fit(_logit(raw_probability).reshape(-1, 1), target)
        )
    raise ValueError(
        f"params model_training.calibration.method must be 'isotonic' or 'sigmoid', got {method!r}"
    )


def predict_test_set(
    test_set: pd.DataFrame,
    test_features: pd.DataFrame,
    baseline_model: SklearnPipeline,
    lightgbm_model: lgb.LGBMClassifier,
    calibrator: ProbabilityCalibrator,
    columns: dict[str, Any],
) -> pd.DataFrame:
    """Scores of all three models on the held-out test split, next to ids and labels."""
    raw_probability = lightgbm_model.predict_proba(test_features)[:, 1]
    predictions = test_set[[*columns["id"], columns["target"]]].copy()
    predictions["baseline_probability"] = baseline_model.predict_proba(test_features)[:, 1]
    predictions["raw_probability"] = raw_probability
    predictions["calibrated_probability"] = calibrator.predict(raw_probability)
    return predictions

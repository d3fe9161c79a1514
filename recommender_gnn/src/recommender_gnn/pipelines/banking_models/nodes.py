"""Kedro nodes of the banking models: thin wrappers over features.py, model.py, evaluation.py.

Protocol: every choice (Optuna's parameters, the number of rounds) is made on the validation
month (May 2016, index 16) by models trained on target months before it; the test month (June
2016) is predicted by the model refit on target months up to 16, and only reported.
"""

from __future__ import annotations

import logging
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from ..banking_data.contract import TEST_MONTH, VALIDATION_MONTH, added_products, month_date
from ..banking_data.metrics import (
    average_precision,
    map_at_k,
    oracle_month,
    oracle_predictions,
    popularity_predictions,
    submission_to_long,
)
from ..banking_data.nodes import has_labels
from .evaluation import (
    paired_bootstrap,
    popularity_for,
    submission_frame,
    with_fallback,
)
from .features import candidate_features, category_vocabulary, target_months, training_rows
from .model import fit, predict, tune_lightgbm

logger = logging.getLogger(__name__)
REFERENCE = "popularity"  # the model every difference interval is taken against


def _vocabulary(train: pd.DataFrame, features: dict[str, Any]) -> dict[str, list[str]]:
    return category_vocabulary(train, list(features["categorical_attributes"]))


def _month_customers(train: pd.DataFrame, month: int) -> np.ndarray:
    return train.loc[train["month"] == month, "customer"].to_numpy()


def validation_datasets(
    train: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows of the target months before the validation month, the validation
    month's candidates): everything a validation model sees."""
    features = params["features"]
    vocabulary = _vocabulary(train, features)
    months = target_months(VALIDATION_MONTH, features["target_offsets"])
    visible = train[train["month"] < VALIDATION_MONTH]  # the validation month's flags: labels
    rows = training_rows(visible, months, features, vocabulary)
    attributes = train[train["month"] == VALIDATION_MONTH]
    candidates = candidate_features(visible, attributes, VALIDATION_MONTH, features, vocabulary)
    logger.info("banking validation: %d training rows (target months %s), %d candidates",
                len(rows), months, len(candidates))  # fmt: skip
    return rows, candidates


def refit_datasets(
    train: pd.DataFrame, test: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training rows of the target months up to the validation month, the test month's
    candidates, attributes from ``santander_test``)."""
    features = params["features"]
    vocabulary = _vocabulary(train, features)
    months = target_months(TEST_MONTH, features["target_offsets"])
    rows = training_rows(train, months, features, vocabulary)
    candidates = candidate_features(train, test, TEST_MONTH, features, vocabulary)
    logger.info("banking refit: %d training rows (target months %s), %d test candidates",
                len(rows), months, len(candidates))  # fmt: skip
    return rows, candidates


def tune_banking_lightgbm(
    rows: pd.DataFrame,
    candidates: pd.DataFrame,
    train: pd.DataFrame,
    params: dict[str, Any],
    tuning: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """(chosen parameters, the trials, validation predictions of the chosen trial)."""
    k = int(params["k"])
    truth = added_products(train).query("month == @VALIDATION_MONTH")
    customers = _month_customers(train, VALIDATION_MONTH)
    return tune_lightgbm(rows, candidates, truth, customers, params["lightgbm"],
                         params["features"], tuning, k)  # fmt: skip


def refit_banking_lightgbm(
    rows: pd.DataFrame, chosen: dict[str, Any], params: dict[str, Any]
) -> lgb.Booster:
    """The chosen parameters and number of rounds, on the target months up to month 16."""
    return fit(rows, chosen, params["features"], int(chosen["num_boost_round"]))


def predict_banking_test(
    booster: lgb.Booster,
    candidates: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """The refit model's top k for every test customer (popularity for the absent)."""
    k = int(params["k"])
    ranked = predict(booster, candidates, params["features"], k)
    return with_fallback(ranked, train, TEST_MONTH, test["customer"].to_numpy(), k)


def banking_submission(
    decision: dict[str, Any],
    lightgbm: pd.DataFrame,
    gnn: pd.DataFrame,
    blend: pd.DataFrame,
    train: pd.DataFrame,
    test: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Kaggle's submission from the gate's model, one row per test customer in the test file's
    order (popularity: every customer gets the popular products not held in May)."""
    customers = test["customer"].to_numpy()
    ranked = {"lightgbm": lightgbm, "gnn": gnn, "blend": blend}.get(decision["submitted"])
    if ranked is None:  # the baseline
        ranked = popularity_for(train, TEST_MONTH, customers, int(params["k"]))
    return submission_frame(ranked, customers)


def _split_scores(
    split: str, month: int, rankings: dict, truth, customers, k: int, bootstrap: dict
) -> list[dict[str, Any]]:
    customers = np.sort(pd.unique(np.asarray(customers)))
    per_customer = {
        model: average_precision(ranked, truth, customers, k).to_numpy()
        for model, ranked in rankings.items()
    }
    intervals = paired_bootstrap(per_customer, int(bootstrap["resamples"]),
                                 int(bootstrap["seed"]), float(bootstrap["confidence"]),
                                 reference=REFERENCE)  # fmt: skip
    rows = []
    for model, ranked in rankings.items():
        scores, interval = map_at_k(ranked, truth, customers, k), intervals[model]
        rows.append(
            {
                "split": split, "fecha_dato": month_date(month), "model": model, "k": k,
                "map_all": scores["map_all"], "map_all_ci_low": interval["ci_low"],
                "map_all_ci_high": interval["ci_high"], "map_adders": scores["map_adders"],
                "n_customers": scores["n_customers"], "n_adders": scores["n_adders"],
                "map_all_diff": interval["diff"], "map_all_diff_ci_low": interval["diff_ci_low"],
                "map_all_diff_ci_high": interval["diff_ci_high"],
            }
        )  # fmt: skip
        logger.info("%s %s MAP@%d: %.5f [%.5f, %.5f] (adders %.4f)", split, model, k,
                    scores["map_all"], interval["ci_low"], interval["ci_high"],
                    scores["map_adders"])  # fmt: skip
    return rows


def score_banking_models(
    train: pd.DataFrame,
    test: pd.DataFrame,
    test_labels: pd.DataFrame,
    oracle: pd.DataFrame,
    lightgbm_valid: pd.DataFrame,
    lightgbm_test: pd.DataFrame,
    gnn_valid: pd.DataFrame,
    gnn_test: pd.DataFrame,
    blend_valid: pd.DataFrame,
    blend_test: pd.DataFrame,
    params: dict[str, Any],
    bootstrap: dict[str, Any],
) -> pd.DataFrame:
    """MAP@k of the oracle (when it has the month), popularity, LightGBM, the GNN and their
    blend on validation and test, with 95% bootstrap intervals over customers and paired ones
    of each model's difference with popularity. Without test labels (real data: they load
    empty) the report has validation rows only; without the oracle's rows for a month, no
    oracle row for it."""
    k = int(params["k"])
    valid_customers = _month_customers(train, VALIDATION_MONTH)
    models = {"lightgbm": (lightgbm_valid, lightgbm_test), "gnn": (gnn_valid, gnn_test),
              "blend": (blend_valid, blend_test)}  # fmt: skip
    splits = {
        "validation": (
            VALIDATION_MONTH, valid_customers,
            added_products(train).query("month == @VALIDATION_MONTH"),
            {name: with_fallback(valid, train, VALIDATION_MONTH, valid_customers, k)
             for name, (valid, _) in models.items()},
        ),
    }  # fmt: skip
    if has_labels(test_labels):
        splits["test"] = (TEST_MONTH, test["customer"].to_numpy(),
                          submission_to_long(test_labels),
                          {name: ranked for name, (_, ranked) in models.items()})  # fmt: skip
    rows = []
    for split, (month, customers, truth, model_rankings) in splits.items():
        rankings = {}
        known = oracle_month(oracle, month)
        if len(known):
            rankings["oracle"] = oracle_predictions(known, k)
        rankings["popularity"] = popularity_predictions(train, month, k)
        rankings.update(model_rankings)
        rows += _split_scores(split, month, rankings, truth, customers, k, bootstrap)
    return pd.DataFrame(rows)


BASELINES = ("popularity",)  # what a model must beat (the oracle is a ceiling, not a model)


def decide_banking_submission(scores: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """The submission's model, on validation only: ``submission.model`` if its MAP@k beats the
    strongest baseline's by ``submission.min_uplift_over_best_baseline``, else that baseline."""
    gate = params["submission"]
    valid = scores[scores["split"] == "validation"].set_index("model")["map_all"]
    candidate = str(gate["model"])
    best_baseline = max(BASELINES, key=lambda name: valid[name])
    uplift = float(valid[candidate] - valid[best_baseline])
    passed = uplift > float(gate["min_uplift_over_best_baseline"])
    decision = {
        "submitted": candidate if passed else best_baseline,
        "candidate": candidate,
        "candidate_valid_map": float(valid[candidate]),
        "best_baseline": best_baseline,
        "best_baseline_valid_map": float(valid[best_baseline]),
        "uplift": uplift,
        "min_uplift_over_best_baseline": float(gate["min_uplift_over_best_baseline"]),
    }
    logger.info("banking submission: %s (%s validation MAP@%s uplift %.5f over %s)",
                decision["submitted"], candidate, params["k"], uplift, best_baseline)  # fmt: skip
    return decision


def check_banking_scores(scores: pd.DataFrame, params: dict[str, Any]) -> None:
    """The closing sanity check: LightGBM's validation MAP@k must beat popularity's by more
    than ``sanity.min_validation_uplift_over_popularity`` (the generator makes additions
    depend on attributes and held products, which popularity ignores)."""
    margin = float(params["sanity"]["min_validation_uplift_over_popularity"])
    valid = scores[scores["split"] == "validation"].set_index("model")["map_all"]
    uplift = float(valid["lightgbm"] - valid["popularity"])
    if not uplift > margin:
        raise ValueError(
            f"banking_model_scores: LightGBM's validation MAP@{params['k']} "
            f"{valid['lightgbm']:.5f} does not beat popularity's {valid['popularity']:.5f} by "
            f"more than banking_models.sanity.min_validation_uplift_over_popularity={margin}"
        )
    logger.info("banking sanity check passed: LightGBM beats popularity on validation by %.5f",
                uplift)  # fmt: skip

"""Kedro nodes of the banking data slice: thin wrappers that name the datasets in errors."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from .contract import TEST_MONTH, VALIDATION_MONTH, added_products, clean_santander, month_date
from .generator import generate_santander
from .metrics import (
    map_at_k,
    oracle_month,
    oracle_predictions,
    popularity_predictions,
    submission_to_long,
)

logger = logging.getLogger(__name__)


def generate_santander_data(params: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The raw train/test frames, the test labels and the oracle (``generator.py``)."""
    return generate_santander(params)


def clean_santander_train(raw: pd.DataFrame) -> pd.DataFrame:
    return clean_santander(raw, "santander_train_raw", has_products=True)


def clean_santander_test(raw: pd.DataFrame) -> pd.DataFrame:
    return clean_santander(raw, "santander_test_raw", has_products=False)


def score_references(
    train: pd.DataFrame,
    test: pd.DataFrame,
    test_labels: pd.DataFrame,
    oracle: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """MAP@k of the oracle and popularity on the validation (May 2016) and test (June 2016)
    months: the floor and the ceiling any model of this data sits between.

    Real data has neither test labels nor oracle (both load empty): without labels there are
    no test rows, without the oracle's rows for a month no oracle row for it."""
    k = int(params["k"])
    months = {
        "validation": (
            VALIDATION_MONTH,
            train.loc[train["month"] == VALIDATION_MONTH, "customer"],
            added_products(train).query("month == @VALIDATION_MONTH"),
        ),
    }
    if has_labels(test_labels):
        months["test"] = (TEST_MONTH, test["customer"], submission_to_long(test_labels))
    rows = []
    for split, (month, customers, truth) in months.items():
        rankings = {}
        known = oracle_month(oracle, month)
        if len(known):
            rankings["oracle"] = oracle_predictions(known, k)
        rankings["popularity"] = popularity_predictions(train, month, k)
        for model, predictions in rankings.items():
            scores = map_at_k(predictions, truth, customers, k)
            logger.info("%s %s MAP@%d: %.5f (adders %.4f)", split, model, k,
                        scores["map_all"], scores["map_adders"])  # fmt: skip
            rows.append({"split": split, "fecha_dato": month_date(month), "model": model,
                         "k": k, **scores})  # fmt: skip
    return pd.DataFrame(rows)


def has_labels(test_labels: pd.DataFrame) -> bool:
    """Whether the test month has labels (generated data); logs why not (real data)."""
    if len(test_labels):
        return True
    logger.info("santander_test_labels is empty (real data has none): no test rows scored")
    return False

"""Refit the chosen ranker on the most recent labelled weeks before it scores the future.

The ranker chosen on the validation week was fit on the weeks before it: the most recent
labelled weeks (validation and test) never trained it. The model that scores week 0 is refit on
the ``refit_weeks`` most recent labelled weeks with the chosen hyper-parameters and the tree count
early stopping found (no early stopping: nothing is left to stop on). The same procedure one week
back (refit on the validation week and the weeks before it, scored on the test week) measures
what the refit gains: the back-test.
"""

import logging
from typing import Any

import lightgbm as lgb
import pandas as pd

from .nodes import LABEL, query_groups, training_rows

logger = logging.getLogger(__name__)


def refit_ranker_on_weeks(
    ranking_features: pd.DataFrame,
    ranker_hyperparameters: dict[str, Any],
    params: dict[str, Any],
    first_week: int,
) -> lgb.LGBMRanker:
    """The chosen model fit on weeks ``first_week`` .. ``first_week + refit_weeks - 1``."""
    weeks = range(first_week, first_week + int(params["refit_weeks"]))
    rows = training_rows(ranking_features[ranking_features["week"].isin(weeks)], params)
    if rows.empty:
        raise ValueError(
            f"ranking_features has no row with a purchase in weeks {list(weeks)} to refit on "
            "(model_training.refit_weeks)"
        )
    chosen = {name: ranker_hyperparameters[name] for name in params["search_space"]}
    fixed = {**params["fixed"], "n_estimators": int(ranker_hyperparameters["best_iteration"])}
    columns = ranker_hyperparameters["feature_columns"]
    model = lgb.LGBMRanker(**fixed, **chosen)
    model.fit(rows[columns], rows[LABEL], group=query_groups(rows))
    logger.info(
        "Ranker refit on weeks %d-%d: %d rows, %d trees",
        weeks[0],
        weeks[-1],
        len(rows),
        fixed["n_estimators"],
    )
    return model


def refit_backtest_ranker(
    ranker: lgb.LGBMRanker,
    ranking_features: pd.DataFrame,
    ranker_hyperparameters: dict[str, Any],
    params: dict[str, Any],
) -> lgb.LGBMRanker:
    """The refit one week back (from the validation week on), for the test week's back-test;
    the chosen ranker itself when ``refit_weeks`` is 0."""
    if not params["refit_weeks"]:
        return ranker
    return refit_ranker_on_weeks(
        ranking_features, ranker_hyperparameters, params, params["validation_week"]
    )


def refit_future_ranker(
    ranker: lgb.LGBMRanker,
    ranking_features: pd.DataFrame,
    ranker_hyperparameters: dict[str, Any],
    params: dict[str, Any],
) -> lgb.LGBMRanker:
    """The model that scores week 0: refit from the test week on (``refit_weeks`` weeks); the
    chosen ranker itself when ``refit_weeks`` is 0."""
    if not params["refit_weeks"]:
        return ranker
    return refit_ranker_on_weeks(
        ranking_features, ranker_hyperparameters, params, params["validation_week"] - 1
    )

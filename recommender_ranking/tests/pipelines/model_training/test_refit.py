"""The refit: the chosen hyper-parameters and tree count on the latest labelled weeks."""

import numpy as np
import pytest

from recommender_ranking.pipelines.model_training.nodes import train_ranker
from recommender_ranking.pipelines.model_training.refit import (
    refit_backtest_ranker,
    refit_future_ranker,
)
from tests.pipelines.model_training.test_nodes import planted_table
from tests.ranking.hm_data import project_parameters


@pytest.fixture(scope="module")
def chosen():
    table = planted_table()
    purchases = table.loc[table["purchased"] == 1, ["week", "customer_id", "article_id"]]
    selection = {"hand_written": ["signal", "noise"], "dfs": [], "dropped": {}}
    params = {**project_parameters()["model_training"], "n_trials": 2, "use_dfs": False}
    params["fixed"] = {**params["fixed"], "n_estimators": 40}
    ranker, hyperparameters, _ = train_ranker(table, purchases, selection, params)
    return table, ranker, hyperparameters, params


def test_refits_learn_the_latest_weeks_with_the_chosen_trees(chosen):
    table, ranker, hyperparameters, params = chosen
    params = {**params, "refit_weeks": 2}
    future = refit_future_ranker(ranker, table, hyperparameters, params)
    backtest = refit_backtest_ranker(ranker, table, hyperparameters, params)
    assert future.n_estimators == backtest.n_estimators == hyperparameters["best_iteration"]
    assert future.get_params()["num_leaves"] == hyperparameters["num_leaves"]
    # The future refit saw the test week (1): it ranks that week's purchases best.
    test = table[table["week"] == 1]
    columns = hyperparameters["feature_columns"]
    scores = {
        name: np.corrcoef(model.predict(test[columns]), test["purchased"])[0, 1]
        for name, model in {"future": future, "backtest": backtest}.items()
    }
    assert scores["future"] > 0.3 and scores["backtest"] > 0.3
    # Not the same data: weeks 1-2 against weeks 2-3.
    assert not np.allclose(future.predict(test[columns]), backtest.predict(test[columns]))


def test_no_refit_registers_the_chosen_ranker(chosen):
    table, ranker, hyperparameters, params = chosen
    params = {**params, "refit_weeks": 0}
    assert refit_future_ranker(ranker, table, hyperparameters, params) is ranker
    assert refit_backtest_ranker(ranker, table, hyperparameters, params) is ranker


def test_weeks_without_purchases_are_refused_by_name(chosen):
    table, ranker, hyperparameters, params = chosen
    empty = table.assign(purchased=0)
    with pytest.raises(ValueError, match=r"no row with a purchase in weeks \[1, 2\]"):
        refit_future_ranker(ranker, empty, hyperparameters, {**params, "refit_weeks": 2})

"""Tuning: the defaults are trial 0, the best trial wins, bad search spaces are named."""

import optuna
import pytest

from recommender_gnn.model_selection.tuning import suggest, tune

TUNING = {"n_trials": 12, "seed": 0}


def evaluate(params):
    score = 1.0 - (params["decay"] - 0.3) ** 2 - 0.1 * (params["mode"] != "b")
    return {"score": score, "clicks": 0.0, "carts": 0.0, "orders": 0.0, "policy": {"clicks": 0.0}}


def test_trial_zero_is_the_defaults_and_the_best_trial_is_returned():
    params = {
        "decay": 0.9,
        "mode": "a",
        "search_space": {
            "decay": {"type": "float", "low": 0.0, "high": 1.0},
            "mode": {"type": "categorical", "choices": ["a", "b"]},
        },
    }
    best, trials = tune("toy", evaluate, params, TUNING)
    assert trials.loc[0, "decay"] == 0.9 and trials.loc[0, "mode"] == "a"
    assert trials["chosen"].sum() == 1
    assert best["decay"] == trials.loc[trials["score"].idxmax(), "decay"]
    assert evaluate(best)["score"] == trials["score"].max() > evaluate(params)["score"]


def test_an_unknown_search_space_type_is_named():
    trial = optuna.create_study().ask()
    with pytest.raises(ValueError, match=r"params toy\.search_space\.decay: type must be"):
        suggest(trial, {"decay": {"type": "real", "low": 0, "high": 1}}, "toy")

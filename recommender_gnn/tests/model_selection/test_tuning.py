"""Tuning: the defaults are trial 0, the best trial wins, bad search spaces are named."""

import optuna
import pytest

from recommender_gnn.model_selection.tuning import suggest, tune

TUNING = {"n_trials": 12, "seed": 0}


def evaluate(params, report=None):
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


def test_a_trial_trailing_the_median_is_pruned_and_never_chosen():
    """Epoch-wise models: trials whose curve trails the earlier trials' median stop early."""
    params = {
        "rate": 0.5,
        "search_space": {"rate": {"type": "float", "low": 0.0, "high": 1.0}},
    }
    epochs_run = []

    def train(trial_params, report):
        rate, score = trial_params["rate"], 0.0
        for epoch in range(1, 11):
            score = rate * epoch / 10  # the final score orders trials like every epoch does
            if report(epoch, score):
                break
        epochs_run.append(epoch)
        return {"score": score, "clicks": 0, "carts": 0, "orders": 0, "policy": {}}

    tuning = {**TUNING, "pruner": {"n_startup_trials": 2, "n_warmup_steps": 1}}
    best, trials = tune("toy", train, params, tuning)
    pruned = trials["pruned_after"].notna()
    assert pruned.any() and min(epochs_run) < 10
    assert not trials.loc[trials["chosen"], "pruned_after"].notna().any()
    assert best["rate"] == trials.loc[~pruned, "rate"].max()
    # Without a pruner every trial runs all its epochs.
    epochs_run.clear()
    _, unpruned = tune("toy", train, params, TUNING)
    assert unpruned["pruned_after"].isna().all() and epochs_run == [10] * len(unpruned)

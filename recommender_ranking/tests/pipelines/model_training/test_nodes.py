"""lambdarank grouping, and a seeded Optuna run that learns the planted signal."""

import numpy as np
import pandas as pd
import pytest

from recommender_ranking.pipelines.model_training.nodes import (
    feature_ablation,
    feature_columns,
    query_groups,
    tpe_sampler,
    train_ranker,
)
from recommender_ranking.search_space import suggest
from tests.ranking.hm_data import project_parameters

# What the project's seeded sampler drew in its 6 trials (3 random, 3 by TPE) with the
# objective of test_the_search_space_draws_what_the_hand_written_calls_drew, taken from the
# hand-written trial.suggest_* calls that search_space: {type, low, high, log} replaced (names,
# order and log flags: num_leaves int, learning_rate float log, min_child_samples int,
# colsample_bytree float, reg_lambda float log). Equal values: the same trials as before.
HAND_WRITTEN_DRAWS = [
    {"num_leaves": 28, "learning_rate": 0.2746436300285509, "min_child_samples": 75,
     "colsample_bytree": 0.7993292420985183, "reg_lambda": 0.004207988669606638},
    {"num_leaves": 15, "learning_rate": 0.0554840098004973, "min_child_samples": 88,
     "colsample_bytree": 0.8005575058716043, "reg_lambda": 0.679657809075816},
    {"num_leaves": 8, "learning_rate": 0.2842539893932711, "min_child_samples": 84,
     "colsample_bytree": 0.6061695553391381, "reg_lambda": 0.005337032762603957},
    {"num_leaves": 31, "learning_rate": 0.07062382551607484, "min_child_samples": 82,
     "colsample_bytree": 0.8886185629157466, "reg_lambda": 3.6254937642833136},
    {"num_leaves": 35, "learning_rate": 0.07297058962315399, "min_child_samples": 26,
     "colsample_bytree": 0.9533210201516944, "reg_lambda": 0.2420919748671027},
    {"num_leaves": 54, "learning_rate": 0.09096314902352416, "min_child_samples": 13,
     "colsample_bytree": 0.9803239584589518, "reg_lambda": 1.4453487299918715},
]  # fmt: skip


def test_query_groups_are_the_sizes_of_consecutive_queries():
    rows = pd.DataFrame({"week": [2, 2, 2, 3, 3, 3], "customer_id": ["a", "a", "b", "a", "b", "b"]})
    assert query_groups(rows).tolist() == [2, 1, 1, 2]
    assert query_groups(rows).sum() == len(rows)


def test_unsorted_queries_are_refused():
    rows = pd.DataFrame({"week": [2, 2, 2], "customer_id": ["a", "b", "a"]})
    with pytest.raises(ValueError, match="not sorted by query"):
        query_groups(rows)


def planted_table(n_customers: int = 60, n_articles: int = 15, seed: int = 0) -> pd.DataFrame:
    """Candidate rows where the purchased article is the one with the highest `signal`."""
    rng = np.random.default_rng(seed)
    frames = []
    for week in [1, 2, 3, 4]:
        signal = rng.normal(size=(n_customers, n_articles))
        bought = signal + 0.3 * rng.normal(size=signal.shape) > 1.5
        frames.append(
            pd.DataFrame(
                {
                    "week": week,
                    "customer_id": np.repeat([f"c{i:03d}" for i in range(n_customers)], n_articles),
                    "article_id": np.tile([f"a{j:02d}" for j in range(n_articles)], n_customers),
                    "signal": signal.ravel(),
                    "noise": rng.normal(size=signal.size),
                    "purchased": bought.ravel().astype("int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values(["week", "customer_id"])


def test_train_ranker_learns_the_signal_and_is_seeded():
    table = planted_table()
    purchases = table.loc[table["purchased"] == 1, ["week", "customer_id", "article_id"]]
    selection = {"hand_written": ["signal", "noise"], "dfs": [], "dropped": {}}
    params = {**project_parameters()["model_training"], "n_trials": 2, "use_dfs": False}
    params["fixed"] = {**params["fixed"], "n_estimators": 40}
    model, hyperparameters, trials = train_ranker(table, purchases, selection, params)
    assert len(trials) == 2
    drawn = trials.filter(like="params_").rename(columns=lambda c: c.removeprefix("params_"))
    assert drawn.to_dict("records") == HAND_WRITTEN_DRAWS[:2]
    assert hyperparameters["feature_columns"] == ["signal", "noise"]
    assert hyperparameters["validation_map_at_k"] > 0.7
    importance = dict(zip(model.feature_name_, model.feature_importances_, strict=True))
    assert importance["signal"] > importance["noise"]
    _, again, _ = train_ranker(table, purchases, selection, params)
    assert again == hyperparameters


def test_negative_downsampling_keeps_every_purchase_and_the_query_order():
    from recommender_ranking.pipelines.model_training.nodes import _split

    table = planted_table()
    params = {**project_parameters()["model_training"], "negative_sample_share": 0.3}
    train, validation = _split(table, params)
    full, _ = _split(table, {**params, "negative_sample_share": 1.0})
    assert train["purchased"].sum() == full["purchased"].sum()  # every purchase kept
    negatives, all_negatives = (train["purchased"] == 0).sum(), (full["purchased"] == 0).sum()
    assert 0.2 * all_negatives < negatives < 0.4 * all_negatives
    assert query_groups(train).sum() == len(train)  # still grouped by query
    assert (validation["week"] == 2).all() and len(validation) == (table["week"] == 2).sum()
    again, _ = _split(table, params)
    pd.testing.assert_frame_equal(again, train)  # seeded


def test_row_caps_sample_whole_queries_and_leave_small_data_alone():
    """max_train_rows / max_validation_rows: seeded samples of whole customer-weeks near the
    cap, in order; the defaults keep every row of a table below them."""
    from recommender_ranking.pipelines.model_training.nodes import _split

    table = planted_table(n_customers=200)
    params = project_parameters()["model_training"]
    assert params["max_train_rows"] >= 1_000_000 and params["max_validation_rows"] >= 500_000
    full_train, full_validation = _split(table, params)
    assert len(full_validation) == (table["week"] == 2).sum()
    capped = {**params, "max_train_rows": 1000, "max_validation_rows": 900}
    train, validation = _split(table, capped)
    for sample, full, cap in [(train, full_train, 1000), (validation, full_validation, 900)]:
        assert 0.6 * cap < len(sample) < 1.4 * cap < len(full)
        sizes = sample.groupby(["week", "customer_id"]).size()
        full_sizes = full.groupby(["week", "customer_id"]).size()
        assert sizes.equals(full_sizes.loc[sizes.index])  # whole queries
        assert query_groups(sample).sum() == len(sample)  # still grouped by query
    again, _ = _split(table, capped)
    pd.testing.assert_frame_equal(again, train)  # seeded


def test_the_budget_leaves_trials_to_tpe_after_its_random_start():
    """With the project's settings, the trials after the start-up are TPE's own, not the
    random draws that Optuna's default start-up (10 trials) would give at this budget."""
    import optuna

    params = project_parameters()["model_training"]
    startup, budget = params["tpe_startup_trials"], params["n_trials"]
    assert budget > startup

    def draws(sampler: optuna.samplers.BaseSampler) -> list[float]:
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1) ** 2, n_trials=budget)
        return [trial.params["x"] for trial in study.trials]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    guided = draws(tpe_sampler(params))
    random_only = draws(optuna.samplers.TPESampler(seed=params["seed"]))
    assert guided[:startup] == random_only[:startup]
    assert guided[startup:] != random_only[startup:]


def test_the_search_space_draws_what_the_hand_written_calls_drew():
    """The project's search_space, drawn by search_space.suggest with the seeded sampler,
    gives the trials the hand-written trial.suggest_* calls gave, TPE's included."""
    import math

    import optuna

    params = project_parameters()["model_training"]
    assert list(params["search_space"]) == list(HAND_WRITTEN_DRAWS[0])  # the order of the calls

    def objective(trial: optuna.Trial) -> float:
        h = suggest(trial, params["search_space"], "model_training")
        return -(
            abs(h["num_leaves"] - 31) / 56
            + abs(math.log(h["learning_rate"] / 0.1))
            + abs(h["min_child_samples"] - 20) / 95
            + abs(h["colsample_bytree"] - 0.8)
            + abs(math.log10(h["reg_lambda"]))
        )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=tpe_sampler(params))
    study.optimize(objective, n_trials=params["n_trials"])
    assert params["n_trials"] == len(HAND_WRITTEN_DRAWS) > params["tpe_startup_trials"]
    # equal to the last bits but one: numpy's SIMD paths differ between CPUs by an ulp
    expected = [pytest.approx(draws, rel=1e-12) for draws in HAND_WRITTEN_DRAWS]
    assert [trial.params for trial in study.trials] == expected


def test_feature_columns_drop_every_column_an_exclude_regex_matches():
    selection = {
        "hand_written": ["rank_taste", "customer_mean_price", "customer_max_price",
                         "article_mean_price", "article_sales"],
        "dfs": ["dfs_age", "dfs_std_transactions_price"],
    }  # fmt: skip
    assert feature_columns(selection, True, []) == [*selection["hand_written"], *selection["dfs"]]
    assert feature_columns(selection, True, ["price"]) == ["rank_taste", "article_sales", "dfs_age"]
    assert feature_columns(selection, False, ["^article_", "rank"]) == [
        "customer_mean_price", "customer_max_price"
    ]  # fmt: skip


def test_excluded_features_are_not_trained_on_nor_in_the_registered_feature_list():
    """exclude_features reaches the model (its features) and ranker_hyperparameters'
    feature_columns, which refit, evaluation and the registered model score with."""
    table = planted_table().assign(price_signal=lambda rows: rows["signal"])
    purchases = table.loc[table["purchased"] == 1, ["week", "customer_id", "article_id"]]
    selection = {"hand_written": ["signal", "noise", "price_signal"], "dfs": [], "dropped": {}}
    params = {**project_parameters()["model_training"], "n_trials": 1, "use_dfs": False}
    assert params["exclude_features"] == []  # the default trains on every selected column
    params = {**params, "fixed": {**params["fixed"], "n_estimators": 10}}
    params["exclude_features"] = ["price", "^noise$"]
    model, hyperparameters, _ = train_ranker(table, purchases, selection, params)
    assert hyperparameters["feature_columns"] == ["signal"]
    assert model.feature_name_ == ["signal"]
    ablation, _ = feature_ablation(table, purchases, selection, params)
    assert ablation["n_features"].tolist() == [1, 1]

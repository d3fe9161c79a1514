"""The report's rows and intervals, the closing sanity check, and `kedro run --pipelines=banking`
through the real CLI on small generated data."""

import json

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.banking_data.contract import PRODUCTS, VALIDATION_MONTH
from recommender_gnn.pipelines.banking_data.metrics import (
    map_at_k,
    popularity_predictions,
    submission_to_long,
)
from recommender_gnn.pipelines.banking_models.nodes import (
    check_banking_scores,
    score_banking_models,
)
from recommender_gnn.pipelines.banking_models.pipeline import create_pipeline
from tests.kedro_cli import copy_project, latest_version, run_kedro

BOOTSTRAP = {"resamples": 200, "seed": 1, "confidence": 0.95}


def test_report_scores_every_model_and_split_with_intervals(santander, params):
    train, test = santander["train"], santander["test"]
    valid = pd.DataFrame({"customer": train.loc[train["month"] == VALIDATION_MONTH, "customer"],
                          "product": PRODUCTS[2], "rank": 1})  # fmt: skip
    # "lightgbm" here: the test labels themselves, a perfect ranking of the test month.
    perfect = submission_to_long(santander["test_labels"])
    # The GNN: the same validation list, popularity on the test month; the blend: nothing
    # ranked (every customer falls back to popularity on validation).
    popular = popularity_predictions(train, VALIDATION_MONTH + 1, 7)
    nothing = perfect.iloc[:0]
    scores = score_banking_models(train, test, santander["test_labels"], santander["oracle"],
                                  valid, perfect, valid, popular, nothing, nothing, params,
                                  BOOTSTRAP)  # fmt: skip
    assert scores[["split", "model"]].to_numpy().tolist() == [
        ["validation", "oracle"], ["validation", "popularity"], ["validation", "lightgbm"],
        ["validation", "gnn"], ["validation", "blend"],
        ["test", "oracle"], ["test", "popularity"], ["test", "lightgbm"], ["test", "gnn"],
        ["test", "blend"],
    ]  # fmt: skip
    by = scores.set_index(["split", "model"])
    assert by.loc[("test", "lightgbm"), "map_adders"] == pytest.approx(1.0)
    assert by.loc[("validation", "gnn"), "map_all"] == by.loc[("validation", "lightgbm"), "map_all"]
    assert by.loc[("test", "gnn"), "map_all"] == by.loc[("test", "popularity"), "map_all"]
    assert by.loc[("validation", "blend"), "map_all"] == pytest.approx(
        by.loc[("validation", "popularity"), "map_all"]
    )
    assert (by["map_all_ci_low"] <= by["map_all"]).all()
    assert (by["map_all"] <= by["map_all_ci_high"]).all()
    assert (by.xs("popularity", level="model")["map_all_diff"] == 0).all()
    gap = by.loc[("test", "lightgbm")]
    assert 0 < gap["map_all_diff_ci_low"] < gap["map_all_diff"] < gap["map_all_diff_ci_high"]
    assert (by["n_customers"].xs("test") == len(test)).all()
    # Without oracle rows for the months (real data), the report goes on without it.
    no_oracle = santander["oracle"].iloc[:0]
    scores = score_banking_models(train, test, santander["test_labels"], no_oracle, valid,
                                  perfect, valid, popular, nothing, nothing, params,
                                  BOOTSTRAP)  # fmt: skip
    assert set(scores["model"]) == {"popularity", "lightgbm", "gnn", "blend"}


def test_sanity_check_fails_when_lightgbm_does_not_beat_popularity(params):
    scores = pd.DataFrame({"split": ["validation"] * 2 + ["test"] * 2,
                           "model": ["popularity", "lightgbm"] * 2,
                           "map_all": [0.03, 0.031, 0.03, 0.02]})  # fmt: skip
    check_banking_scores(scores, params)  # validation: beats by 0.001
    worse = scores.assign(map_all=[0.03, 0.029, 0.03, 0.04])
    with pytest.raises(ValueError, match="does not beat popularity"):
        check_banking_scores(worse, params)
    strict = {**params, "sanity": {"min_validation_uplift_over_popularity": 0.01}}
    with pytest.raises(ValueError, match=r"min_validation_uplift_over_popularity=0\.01"):
        check_banking_scores(scores, strict)


def test_pipeline_nodes():
    assert {node.name for node in create_pipeline().nodes} == {
        "banking_validation_features", "banking_refit_features", "tune_banking_lightgbm",
        "refit_banking_lightgbm", "predict_banking_test", "write_banking_submission",
        "score_banking_models", "check_banking_scores", "score_banking_champion",
        "package_banking_model", "decide_banking_promotion", "tune_banking_gnn",
        "refit_banking_gnn", "predict_banking_gnn_test", "tune_banking_blend",
        "blend_banking_test", "decide_banking_submission",
    }  # fmt: skip


def test_kedro_run_banking_generates_fits_scores_and_submits(tmp_path):
    """The real CLI: banking_data then banking_models through the catalog's files."""
    project = copy_project(tmp_path / "recommender_gnn")
    run_kedro(
        project,
        "run",
        "--env=local",
        "--pipelines=banking",
        "--params",
        "banking_data.generator.n_customers=4000,model_selection.tuning.n_trials=2,"
        "model_selection.bootstrap.resamples=200,banking_models.lightgbm.num_boost_round=100,"
        "banking_models.gnn.max_epochs=6",
    )
    data = project / "data"
    scores = pd.read_csv(data / "08_reporting" / "banking_model_scores.csv")
    assert scores[["split", "model"]].to_numpy().tolist() == [
        [split, model] for split in ("validation", "test")
        for model in ("oracle", "popularity", "lightgbm", "gnn", "blend")
    ]  # fmt: skip
    by = scores.set_index(["split", "model"])["map_all"]
    # The sanity node passed, so LightGBM beat popularity on validation; the oracle is the top.
    assert by[("validation", "lightgbm")] > by[("validation", "popularity")] > 0
    assert by[("test", "oracle")] > by[("test", "popularity")]
    trials = pd.read_csv(data / "08_reporting" / "banking_lightgbm_trials.csv")
    assert len(trials) == 2 and trials["chosen"].sum() == 1
    test = pd.read_parquet(data / "02_intermediate" / "santander_test.parquet")
    submission = pd.read_csv(latest_version(data / "07_model_output" / "banking_submission.csv"),
                             keep_default_na=False)  # fmt: skip
    assert list(submission.columns) == ["ncodpers", "added_products"]
    assert submission["ncodpers"].tolist() == test["customer"].tolist()
    lists = submission["added_products"].str.split()
    assert lists.map(len).between(1, 7).all() and lists.explode().isin(PRODUCTS).all()
    # Nothing held in May 2016 is recommended for June.
    train = pd.read_parquet(data / "02_intermediate" / "santander_train.parquet")
    may = train[train["month"] == VALIDATION_MONTH].set_index("customer")[PRODUCTS]
    recommended = lists.explode().to_frame("product").assign(customer=submission["ncodpers"])
    held = may.reindex(recommended["customer"]).to_numpy()
    column = np.array([PRODUCTS.index(p) for p in recommended["product"]])
    assert not (held[np.arange(len(column)), column] == 1).any()
    # The gate chose the blend (it beat popularity on validation): the submission file is what
    # the report scored for the blend on the test month.
    decision = json.loads(
        latest_version(data / "08_reporting" / "banking_submission_decision.json").read_text()
    )
    assert decision["submitted"] == "blend" and decision["uplift"] > 0
    labels = pd.read_csv(data / "01_raw" / "santander" / "test_labels.csv", dtype=str,
                         keep_default_na=False)  # fmt: skip
    rescored = map_at_k(submission_to_long(submission.astype(str)), submission_to_long(labels),
                        test["customer"], 7)  # fmt: skip
    assert rescored["map_all"] == pytest.approx(by[("test", "blend")], abs=1e-12)

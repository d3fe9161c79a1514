"""Registry on a real sqlite MLflow store: log, gate, promote by alias, recommend from it."""

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from recommender_ranking.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from recommender_ranking.datasets.signed_pyfunc_model_dataset import SignedPyfuncModelDataset
from recommender_ranking.pipelines.model_registry.nodes import (
    RankingModel,
    decide_promotion,
    package_model,
    score_current_champion,
)
from recommender_ranking.pipelines.model_training.nodes import query_groups
from recommender_ranking.pipelines.recommendations.nodes import top_k_with_fallback
from tests.kedro_cli import BLUEPRINT
from tests.pipelines.model_training.test_nodes import planted_table

NAME = "ranker_under_test"
PARAMS = {"k": 12, "test_week": 1}
WEEK_CALENDAR = pd.DataFrame(
    {"week": range(5), "cutoff": pd.date_range(end="2020-09-23", periods=5, freq="7D")[::-1]}
)
GATE = {"min_ratio_to_best_source": 1.0, "champion_tolerance": 0.0}
SERVING_ROOTS = yaml.safe_load((BLUEPRINT / "conf/base/catalog_model_registry.yml").read_text())[
    "ranking_model"
]["serving_packages"]


@pytest.fixture
def tracking(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_experiment("registry_test")
    yield tmp_path
    mlflow.set_tracking_uri("")


def ranking_features() -> pd.DataFrame:
    """Planted candidates for weeks 1..4 plus week 0 (no label), with source ranks."""
    table = planted_table(n_customers=20, n_articles=14)
    week0 = table[table["week"] == 1].assign(week=0, purchased=-1)
    table = pd.concat([week0, table], ignore_index=True)
    table["article_id"] = "01087750" + table["article_id"].str[1:]  # 10-digit ids
    table["rank_popularity"] = table.groupby(["week", "customer_id"]).cumcount() + 1.0
    return table.sort_values(["week", "customer_id"], ignore_index=True)


def fit(table: pd.DataFrame, columns: list[str]) -> lgb.LGBMRanker:
    train = table[table["week"] >= 2]
    model = lgb.LGBMRanker(n_estimators=20, min_child_samples=5, verbose=-1, random_state=0)
    return model.fit(train[columns], train["purchased"], group=query_groups(train))


def card_for(model, columns, table, ranker_map, baseline_map, params=PARAMS):
    evaluation = pd.DataFrame(
        {
            "recommender": ["ranker", "baseline:popularity"],
            "segment": "all",
            "buyers": 10,
            "map_at_12_buyers": [ranker_map, baseline_map],
        }
    )
    hyperparameters = {"feature_columns": columns}
    return package_model(model, hyperparameters, table, evaluation, WEEK_CALENDAR, params)


def run_registry(table, model, columns, ranker_map, baseline_map=0.1, params=PARAMS):
    """One training run's registry steps, as the pipeline runs them, inside an MLflow run."""
    champion = MlflowModelAliasDataset(model_name=NAME, alias="champion", missing_ok=True)
    purchases = table.loc[table["purchased"] == 1, ["week", "customer_id", "article_id"]]
    with mlflow.start_run():
        packaged, card = card_for(model, columns, table, ranker_map, baseline_map, params)
        SignedPyfuncModelDataset(
            name="ranking_model",
            registered_model_name=NAME,
            serving_packages=SERVING_ROOTS,
            lock_file=str(BLUEPRINT / "requirements.lock"),
            log_model_args={"code_paths": [str(BLUEPRINT / "src/recommender_ranking")]},
        ).save(packaged)
        score = score_current_champion(champion.load(), table, purchases, WEEK_CALENDAR, params)
        decision, _ = decide_promotion(card, score, GATE)
        MlflowModelAliasDataset(model_name=NAME, alias="champion").save(decision)
    return decision


def test_promotion_by_alias_gate_against_champion_and_recommendations(tracking):
    table = ranking_features()
    good = fit(table, ["signal", "noise"])
    first = run_registry(table, good, ["signal", "noise"], ranker_map=0.5)
    assert first["promote"] and first["champion"]["version"] is None
    champion = MlflowModelAliasDataset(model_name=NAME, alias="champion").load()
    assert champion.version == "1"
    assert champion.model.metadata.get_input_schema().input_names() == ["signal", "noise"]

    # a model that only sees noise is worse than the champion on this run's test week
    bad = fit(table, ["noise"])
    second = run_registry(table, bad, ["noise"], ranker_map=0.2)
    assert not second["promote"]
    assert second["failed_checks"] == ["not_worse_than_champion"]
    assert second["champion"]["version"] == "1" and second["champion"]["map_at_k"] > 0.5
    assert MlflowModelAliasDataset(model_name=NAME, alias="champion").load().version == "1"

    customers = pd.DataFrame({"customer_id": [*table["customer_id"].unique(), "newcomer"]})
    submission, n_short = top_k_with_fallback(
        champion,
        table[table["week"] == 0],
        customers["customer_id"],
        {"k": 12, "fallback_rank_column": "rank_popularity"},
    )
    assert n_short == 1  # the newcomer has no candidate row
    assert submission["customer_id"].tolist() == customers["customer_id"].tolist()
    ids = submission["prediction"].str.split(" ")
    assert (ids.str.len() == 12).all()
    assert ids.explode().str.fullmatch(r"\d{10}").all()
    assert (ids.map(set).str.len() == 12).all()  # no repeated article
    newcomer = ids[submission["customer_id"] == "newcomer"].iloc[0]
    popular = table[table["week"] == 0].sort_values(["rank_popularity", "article_id"])
    assert newcomer == popular.drop_duplicates("article_id")["article_id"].head(12).tolist()
    # a customer's first article is its best-scored week-0 candidate
    first_customer = table[(table["week"] == 0) & (table["customer_id"] == "c000")]
    scores = champion.model.predict(first_customer[["signal", "noise"]])["score"].to_numpy()
    assert ids.iloc[0][0] == first_customer["article_id"].to_numpy()[np.argmax(scores)]


def test_a_champion_refit_on_the_test_week_is_not_compared_on_it(tracking):
    """A champion refit on the latest weeks trained on this run's test week (a re-run on the
    same data): its score there says nothing, so the gate does not compare with it."""
    table = ranking_features()
    refit = {**PARAMS, "refit_weeks": 4}
    first = run_registry(
        table, fit(table, ["signal", "noise"]), ["signal", "noise"], 0.5, 0.1, refit
    )
    assert first["promote"]
    champion = MlflowModelAliasDataset(model_name=NAME, alias="champion").load()
    assert champion.model.metadata.metadata == {"trained_before": "2020-09-23"}  # week 0's cutoff
    second = run_registry(table, fit(table, ["noise"]), ["noise"], 0.2, 0.1, refit)
    assert second["champion"]["map_at_k"] is None
    assert second["champion"]["reason"] == "trained on the test week (data before 2020-09-23)"
    assert "not_worse_than_champion" not in second["checks"]


def test_gate_judges_the_refit_by_its_back_test_when_there_is_one():
    card = {
        "metric": "m",
        "test_metrics": {
            "ranker": {"m": 0.3},
            "ranker:refit": {"m": 0.09},
            "baseline:popularity": {"m": 0.1},
        },
    }
    decision, _ = decide_promotion(card, {"version": None, "map_at_k": None}, GATE)
    assert decision["failed_checks"] == ["ratio_to_best_source"] and decision["m"] == 0.09


def test_gate_refuses_a_ranker_below_the_baseline():
    card = {
        "metric": "m",
        "test_metrics": {"ranker": {"m": 0.09}, "baseline:popularity": {"m": 0.1}},
    }
    decision, _ = decide_promotion(card, {"version": None, "map_at_k": None}, GATE)
    assert not decision["promote"] and decision["failed_checks"] == ["ratio_to_best_source"]


def test_gate_compares_with_the_strongest_single_source_and_its_margin():
    """Far above popularity but within the margin of repurchase alone: refused."""
    card = {
        "metric": "m",
        "test_metrics": {
            "ranker": {"m": 0.2},
            "baseline:popularity": {"m": 0.05},
            "source:repurchase": {"m": 0.19},
            "source:taste": {"m": 0.1},
            "oracle": {"m": 0.3},
        },
    }
    no_champion = {"version": None, "map_at_k": None}
    decision, _ = decide_promotion(card, no_champion, {**GATE, "min_ratio_to_best_source": 1.1})
    check = decision["checks"]["ratio_to_best_source"]
    assert not decision["promote"] and check["best_source"] == "source:repurchase"
    assert check["value"] == pytest.approx(0.2 / 0.19)
    assert decide_promotion(card, no_champion, GATE)[0]["promote"]


def test_no_champion_gives_a_message_naming_the_alias(tracking):
    from kedro.io.core import DatasetError

    with pytest.raises(DatasetError, match="has alias 'champion'"):
        MlflowModelAliasDataset(model_name=NAME, alias="champion").load()


def test_block_scores_equal_pyfunc_predict_and_warn_nothing(recwarn):
    """``RankingModel.score`` (week 0's path) gives ``predict``'s scores to the last bit for
    float32, small-integer and nullable columns across blocks, without a warning per block."""
    table = ranking_features()
    columns = ["rank_popularity", "signal", "noise"]
    model = RankingModel(fit(table, columns), columns)
    rows = table[columns].astype("float32")
    rows["rank_popularity"] = rows["rank_popularity"].astype("int8")
    missing = np.arange(len(rows)) % 7 == 0
    rows["noise"] = pd.array(np.where(missing, None, rows["noise"]), dtype="Float64")
    expected = model.predict(None, rows)["score"].to_numpy()
    scores = model.score(rows, block_rows=13)
    np.testing.assert_array_equal(scores, expected)
    assert rows["noise"].isna().sum() == missing.sum() > 0
    assert not [w for w in recwarn if "feature names" in str(w.message)]

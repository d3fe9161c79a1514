"""The whole project through the real kedro CLI on a tiny generated dataset."""

import mlflow
import pandas as pd

from tests.conftest import registered_model
from tests.kedro_cli import latest_version, run_kedro


def test_default_run_writes_every_stage(tiny_project):
    data = tiny_project / "data"
    assert len(list((data / "01_raw" / "ga4_events").glob("events_2*.parquet"))) == 92
    assert (data / "05_model_input" / "model_input_table.parquet").exists()
    metrics = pd.read_csv(latest_version(data / "08_reporting" / "evaluation_metrics.csv"))
    assert set(metrics["model"]) == {"baseline", "model_raw", "model_calibrated"}
    oracle = pd.read_csv(latest_version(data / "08_reporting" / "oracle_benchmark.csv"))
    assert oracle.set_index("model").loc["oracle", "roc_auc"] >= oracle["roc_auc"].max() - 0.05
    drift = pd.read_csv(latest_version(data / "08_reporting" / "drift_report.csv"))
    assert "calibrated_probability" in set(drift["feature"])
    mlflow.set_tracking_uri(f"sqlite:///{tiny_project / 'mlflow.db'}")
    model = registered_model(tiny_project)
    champion = mlflow.MlflowClient().get_model_version_by_alias(model["name"], model["alias"])
    assert champion.version in (1, "1")


def test_batch_scores_keep_ids_and_carry_the_model_version(tiny_project):
    data = tiny_project / "data"
    scores = pd.read_parquet(latest_version(data / "07_model_output" / "batch_scores.parquet"))
    scoring_set = pd.read_parquet(data / "05_model_input" / "scoring_set.parquet")
    assert scores["user_pseudo_id"].tolist() == scoring_set["user_pseudo_id"].tolist()
    assert scores["user_pseudo_id"].map(type).eq(str).all()
    assert set(pd.to_datetime(scores["snapshot_date"]).dt.strftime("%Y-%m-%d")) == {"2021-01-24"}
    assert scores["calibrated_probability"].between(0, 1).all()
    assert sorted(scores["decile"].unique()) == list(range(1, 11))
    assert set(scores["model_version"]) == {"1"}


def test_scoring_alone_reproduces_the_batch_scores(tiny_project):
    folder = tiny_project / "data" / "07_model_output" / "batch_scores.parquet"
    first = pd.read_parquet(latest_version(folder))
    run_kedro(tiny_project, "run", "--env=local", "--pipelines=scoring")
    assert len(list(folder.iterdir())) == 2
    pd.testing.assert_frame_equal(pd.read_parquet(latest_version(folder)), first)

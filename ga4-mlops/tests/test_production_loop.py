"""The weekly loop through the real kedro CLI on the tiny generated data: train (the
session's default run), score two consecutive weeks and the latest date, then measure
realized performance and decide on retraining."""

import json
import os
import shutil
import subprocess
import sys

import mlflow
import pandas as pd
import pytest

from tests.conftest import registered_model
from tests.kedro_cli import copy_project, latest_version, run_kedro

# The test and scoring snapshots of the training run; horizons end 01-23 and 01-30, so both
# weeks are labelled by the data (ending 01-31), and the latest date (02-01) is not.
WEEKS = ("2021-01-17", "2021-01-24")


def one_line(text: str) -> str:
    return " ".join(text.split())  # rich wraps long log lines


@pytest.fixture(scope="module")
def scored_weeks(tiny_project):
    for week in WEEKS:
        run_kedro(
            tiny_project,
            "run",
            "--env=local",
            "--pipelines=inference",
            "--params",
            f"as_of_date={week}",
        )
    folder = tiny_project / "data" / "07_model_output" / "inference_scores"
    before = {f"{week}.parquet": (folder / f"{week}.parquet").read_bytes() for week in WEEKS}
    run_kedro(tiny_project, "run", "--env=local", "--pipelines=inference")  # latest
    return folder, before


def test_each_week_adds_a_partition_and_leaves_the_others_alone(scored_weeks):
    folder, before = scored_weeks
    assert sorted(p.name for p in folder.iterdir()) == [
        "2021-01-17.parquet",
        "2021-01-24.parquet",
        "2021-02-01.parquet",
    ]
    for name, content in before.items():
        assert (folder / name).read_bytes() == content
    for week in WEEKS:
        scores = pd.read_parquet(folder / f"{week}.parquet")
        assert set(scores["snapshot_date"].dt.strftime("%Y-%m-%d")) == {week}
        assert scores["user_pseudo_id"].map(type).eq(str).all()
        assert set(scores["model_version"]) == {"1"}


def test_inference_gives_the_training_querys_scores_for_the_same_date(tiny_project, scored_weeks):
    folder, _ = scored_weeks
    batch = pd.read_parquet(
        latest_version(tiny_project / "data" / "07_model_output" / "batch_scores.parquet")
    )
    as_of = batch["snapshot_date"].dt.strftime("%Y-%m-%d").unique().tolist()
    assert as_of == [WEEKS[1]]
    pd.testing.assert_frame_equal(pd.read_parquet(folder / f"{WEEKS[1]}.parquet"), batch)
    latest = pd.read_parquet(folder / "2021-02-01.parquet")
    assert set(latest["snapshot_date"].dt.strftime("%Y-%m-%d")) == {"2021-02-01"}


def test_realized_performance_of_the_labelled_weeks(tiny_project, scored_weeks):
    run_kedro(tiny_project, "run", "--env=local", "--pipelines=performance_monitoring")
    reports = tiny_project / "data" / "08_reporting"
    realized = pd.read_csv(latest_version(reports / "realized_performance.csv"))
    assert realized["as_of_date"].tolist() == list(WEEKS)  # 2021-02-01 waits for labels
    assert (realized["roc_auc"] > 0.6).all()
    assert realized["test_roc_auc"].notna().all()
    # 2021-01-17 is the training run's test split: scored again by inference and labelled
    # from the users' active days, it gives back the test figures exactly.
    test_week = realized.set_index("as_of_date").loc[WEEKS[0]]
    for metric in ("roc_auc", "pr_auc", "ece", "lift_at_5pct"):
        assert test_week[metric] == pytest.approx(test_week[f"test_{metric}"], rel=1e-9)
    assert latest_version(reports / "realized_performance_plot.png").stat().st_size > 0
    decision = json.loads(latest_version(reports / "retraining_decision.json").read_text())
    assert decision["evaluated_as_of_dates"] == list(WEEKS)
    mlflow.set_tracking_uri(f"sqlite:///{tiny_project / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    run = client.search_runs(
        client.get_experiment_by_name("ga4_mlops").experiment_id,
        "tags.`retraining.decision` != ''",
        order_by=["attributes.start_time DESC"],
    )[0]
    assert run.data.tags["retraining.decision"] == ("retrain" if decision["retrain"] else "keep")
    assert len(client.get_metric_history(run.info.run_id, "realized.roc_auc")) == 2
    # The scheduler's gate (make weekly, docs/vertex-ai.md) reads that decision.
    gate = subprocess.run(
        [sys.executable, "-m", "ga4_mlops.retraining_gate", "--env", "local"],
        cwd=tiny_project,
        env={k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert gate.returncode == (0 if decision["retrain"] else 1), gate.stderr[-3000:]
    assert f'"retrain": {str(decision["retrain"]).lower()}' in gate.stdout
    # Deciding never moves the alias.
    model = registered_model(tiny_project)
    assert client.get_model_version_by_alias(model["name"], model["alias"]).version in (1, "1")


def test_an_as_of_date_outside_the_data_names_the_date_and_the_range(tiny_project):
    failed = run_kedro(
        tiny_project,
        "run",
        "--env=local",
        "--pipelines=inference",
        "--params",
        "as_of_date=2021-03-01",
        check=False,
    )
    assert failed.returncode != 0
    message = one_line(failed.stderr)
    assert "as-of date 2021-03-01" in message
    assert "the data cover [2020-11-01, 2021-01-31]" in message


def test_scoring_without_a_champion_fails_naming_the_registry(tiny_project, tmp_path):
    project = copy_project(tmp_path / "ga4-mlops")
    shutil.copytree(
        tiny_project / "data" / "01_raw", project / "data" / "01_raw", dirs_exist_ok=True
    )
    # What training wrote to disk, so that only the registry's champion is missing (without
    # them the run stops earlier, naming them: tests/test_new_user_errors.py).
    for written in ("05_model_input/train_set.parquet", "07_model_output/test_predictions.parquet"):
        source, target = tiny_project / "data" / written, project / "data" / written
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    failed = run_kedro(project, "run", "--env=local", "--pipelines=inference", check=False)
    assert failed.returncode != 0
    message = one_line(failed.stderr)
    model = registered_model(project)
    expected = f"No version of registered model '{model['name']}' has alias '{model['alias']}'"
    assert expected in message
    assert not (project / "data" / "07_model_output" / "inference_scores").exists()

"""What a new user gets wrong first, through the real kedro CLI on a fresh copy (no data)."""

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import copy_project, run_kedro


def words(text: str) -> str:
    """The CLI's message on one line: rich wraps tracebacks at the terminal's width."""
    return " ".join(text.split())


def written_files(project: Path) -> list[Path]:
    return [path for path in (project / "data").rglob("*") if path.is_file()]


def mlflow_runs(project: Path) -> list[tuple]:
    database = project / "mlflow.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        return (
            connection.execute("SELECT run_uuid FROM runs").fetchall() if "runs" in tables else []
        )


@pytest.fixture(scope="module")
def fresh_project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("new_user") / "ga4-mlops")


def test_an_unknown_environment_is_named_with_the_environments_that_exist(fresh_project):
    failed = run_kedro(fresh_project, "run", "--env=nonexistent", check=False)

    assert failed.returncode != 0
    message = words(failed.stderr)
    assert "ValueError: environment 'nonexistent' does not exist:" in message
    assert "has no folder 'nonexistent'. Environments: churn, gcp, local" in message
    # Stopped before kedro-mlflow took the missing folder for a missing mlflow.yml.
    assert "No 'mlflow.yml' config file found" not in message
    assert "MlflowException" not in message
    assert not (fresh_project / "mlruns").exists()
    assert written_files(fresh_project) == []


def test_training_without_model_input_names_the_dataset_and_the_pipeline_that_writes_it(
    fresh_project,
):
    failed = run_kedro(fresh_project, "run", "--pipelines=training", check=False)

    assert failed.returncode != 0
    message = words(failed.stderr)
    assert "ValueError: input dataset(s) of this run do not exist yet: 'model_input_table'" in (
        message
    )
    assert (
        "written by kedro run --pipelines=end_to_end or kedro run --pipelines=feature_extraction"
        in (message)
    )
    assert "data/05_model_input/model_input_table.parquet" in "".join(failed.stderr.split())
    # Before the first node and before kedro-mlflow's run: nothing written, no empty run.
    assert written_files(fresh_project) == []
    assert mlflow_runs(fresh_project) == []

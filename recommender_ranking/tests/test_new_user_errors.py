"""What a new user gets wrong first, through the real kedro CLI on a fresh copy (no data): an
environment that does not exist, and a pipeline run before the one that writes its input
(run_hooks.py). Kit file; ``conftest.FRESH_RUN`` names the blueprint's example."""

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import FRESH_RUN
from tests.kedro_cli import copy_project, run_kedro


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
    return copy_project(tmp_path_factory.mktemp("new_user") / "recommender_ranking")


def test_an_unknown_environment_is_named_with_the_environments_that_exist(fresh_project):
    failed = run_kedro(fresh_project, "run", "--env=nonexistent", check=False)

    assert failed.returncode != 0
    message = words(failed.stderr)
    assert "ValueError: environment 'nonexistent' does not exist:" in message
    environments = sorted(
        folder.name
        for folder in (fresh_project / "conf").iterdir()
        if folder.is_dir() and folder.name != "base"
    )
    assert f"has no folder 'nonexistent'. Environments: {', '.join(environments)}" in message
    # Stopped before kedro-mlflow took the missing folder for a missing mlflow.yml.
    assert "No 'mlflow.yml' config file found" not in message
    assert "MlflowException" not in message
    assert not (fresh_project / "mlruns").exists()
    assert written_files(fresh_project) == []


def test_a_pipeline_run_before_the_one_writing_its_input_names_the_dataset_and_the_writers(
    fresh_project,
):
    pipeline, dataset, filepath, writers = FRESH_RUN
    failed = run_kedro(fresh_project, "run", f"--pipelines={pipeline}", check=False)

    assert failed.returncode != 0
    message = words(failed.stderr)
    assert f"ValueError: input dataset(s) of this run do not exist yet: '{dataset}'" in message
    assert " or ".join(f"kedro run --pipelines={writer}" for writer in writers) in message
    assert filepath in "".join(failed.stderr.split())
    # Before the first node and before kedro-mlflow's run: nothing written, no empty run.
    assert written_files(fresh_project) == []
    assert mlflow_runs(fresh_project) == []

"""Shared fixtures: a throwaway project copy, the real kedro CLI, and tiny run parameters."""

import os
from pathlib import Path

import pytest

from tests.kedro_cli import (  # re-exported: the tests import them from here
    BLUEPRINT,
    copy_project,
    mlflow_experiment_kept,
    run_kedro,
)

# Like the Makefile and settings.py: before any test loads an OpenMP runtime (openmp.py).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

# A small pipeline for the tests that run or compile it in the gcp environment
# (test_gcp_environment.py, a kit copy).
GCP_TEST_PIPELINE = "submission"
# A pipeline run on a fresh copy before the one that writes its input: (pipeline, the missing
# dataset named first, its file, the pipelines that write it) (tests/test_new_user_errors.py).
FRESH_RUN = (
    "baselines",
    "refit_sessions",
    "data/02_intermediate/refit_sessions.parquet",
    ["data_preparation", "end_to_end"],
)


# Small enough for a test on 2 busy cores, big enough that every split and event type has
# labels. Both gates are opened (margin -1: any candidate passes) because a tiny dataset cannot
# promise the real margins; tests/test_end_to_end.py closes them (+1) and sees them refuse.
OPEN_GATES = [
    "model_registry.quality_gate.min_uplift_over_best_baseline=-1.0",
    "model_registry.quality_gate.min_uplift_over_champion=-1.0",
    "submission.min_uplift_over_best_baseline=-1.0",
]
CLOSED_GATES = [gate.replace("=-1.0", "=1.0") for gate in OPEN_GATES]
TINY_PARAMS = ",".join(
    [
        "data_generation.otto.n_sessions=2500",
        "data_generation.otto.n_items=300",
        "data_generation.hm.n_customers=200",
        "data_generation.hm.n_articles=150",
        "model_selection.tuning.n_trials=2",
        "model_selection.bootstrap.resamples=100",
        "model_training.max_epochs=2",
        "model_training.progress_bar=false",
        *OPEN_GATES,
    ]
)


def latest_version(dataset_folder: Path) -> Path:
    """The newest file of a versioned Kedro dataset (``<name>/<version>/<name>``)."""
    versions = sorted(dataset_folder.iterdir())
    return versions[-1] / dataset_folder.name


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("e2e") / "recommender_gnn")
    run_kedro(project, "run", "--env=local", "--params", TINY_PARAMS)
    return project


def list_artifact_files(client, run_id: str) -> set[str]:
    """Every file logged as an artifact of the run, relative to its artifact root."""
    files, folders = set(), [None]
    while folders:
        for item in client.list_artifacts(run_id, folders.pop()):
            if item.is_dir:
                folders.append(item.path)
            else:
                files.add(item.path)
    return files


VERTEX_IMAGE = "europe-west4-docker.pkg.dev/blueprint-test-project/ml/recommender-gnn:test"


def compile_vertex_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, spec_path: Path | None = None
) -> dict:
    """``kedro vertexai -e gcp compile <args>`` offline; the compiled spec as a dict.

    ``aiplatform.init`` (experiment set-up: credentials and network) is the one call replaced.
    kedro-mlflow opens its store while compiling (a server URL would be retried for minutes
    offline), so a sqlite file stands in for the server.
    """
    import google.cloud.aiplatform
    import yaml
    from click.testing import CliRunner
    from kedro.framework.cli.cli import KedroCLI
    from kedro.framework.startup import bootstrap_project

    monkeypatch.setattr(google.cloud.aiplatform, "init", lambda *a, **k: None)
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv("GCP_REGION", "europe-west4")
    monkeypatch.setenv("RECOMMENDER_GNN_IMAGE", VERTEX_IMAGE)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(BLUEPRINT)
    bootstrap_project(BLUEPRINT)
    spec_path = spec_path or tmp_path / "pipeline.yaml"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    with mlflow_experiment_kept(monkeypatch):  # kedro-mlflow sets one while compiling
        result = CliRunner().invoke(
            KedroCLI(BLUEPRINT),
            ["vertexai", "-e", "gcp", "compile", *args, "-o", str(spec_path)],
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    return yaml.safe_load(spec_path.read_text())  # JSON is YAML too

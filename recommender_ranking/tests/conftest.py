"""Shared helpers: a throwaway project copy, the real kedro CLI, tiny run parameters."""

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
GCP_TEST_PIPELINE = "eda"
# A pipeline run on a fresh copy before the one that writes its input: (pipeline, the missing
# dataset named first, its file, the pipelines that write it) (tests/test_new_user_errors.py).
FRESH_RUN = (
    "training",
    "article_image_embeddings",
    "data/04_feature/article_image_embeddings.parquet",
    ["embeddings", "end_to_end"],
)


# About 200 test-week buyers in the tiny run: MAP@12's standard error (about 0.03) dwarfs the
# gate's 5% margin, which the benchmark holds on the default data; here the ranker must at
# least match the strongest single source.
TINY_GATE_RATIO = 1.0
# Small enough for a test on 2 busy cores, big enough that every week has buyers.
TINY_PARAMS = ",".join(
    [
        "data_generation.n_customers=600",
        "data_generation.n_articles=400",
        "data_generation.n_weeks=8",
        "embeddings.epochs=2",
        "eda.minimal_above_rows=0",
        # The model side's own tiny settings (Optuna trials and boosting rounds).
        "model_training.n_trials=1",
        "model_training.fixed.n_estimators=20",
        f"model_registry.quality_gate.min_ratio_to_best_source={TINY_GATE_RATIO}",
    ]
)


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    """The whole default run (generator included) on tiny data, in a throwaway copy."""
    project = copy_project(tmp_path_factory.mktemp("e2e") / "recommender_ranking")
    run_kedro(project, "run", "--env=local", "--params", TINY_PARAMS)
    return project


def latest_version(dataset_folder: Path) -> Path:
    """The newest file of a versioned Kedro dataset (``<name>/<version>/<name>``)."""
    versions = sorted(dataset_folder.iterdir())
    return versions[-1] / dataset_folder.name


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


@pytest.fixture(scope="session")
def tiny_generation_params() -> dict:
    """The generator's parameters (conf/base) at a size unit tests can afford."""
    import yaml

    params = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "parameters_data_generation.yml").read_text()
    )["data_generation"]
    return {**params, "seed": 7, "k": 12, "n_customers": 500, "n_articles": 400, "n_weeks": 8}


VERTEX_IMAGE = "europe-west4-docker.pkg.dev/blueprint-test-project/ml/recommender-ranking:test"


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
    monkeypatch.setenv("RECOMMENDER_RANKING_IMAGE", VERTEX_IMAGE)
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

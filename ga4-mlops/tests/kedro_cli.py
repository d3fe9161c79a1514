"""The real kedro CLI on a throwaway copy of the blueprint, and the offline ``kedro vertexai
compile``: what every end-to-end and Vertex AI test uses. Kit file: kit/files/tests/kedro_cli.py
(kit/sync.py); conftest.py re-exports it."""

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.quiet_output import noise

BLUEPRINT = Path(__file__).resolve().parents[1]
# What a copied project needs to run: the rest (data, mlruns, .venv) is made by the run.
PROJECT_FILES = ("pyproject.toml", "requirements.lock", "conf", "src")
DATA_LAYERS = (
    "01_raw",
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
)


def copy_project(destination: Path) -> Path:
    """A throwaway copy of the blueprint, so test runs never touch its data or registry."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = BLUEPRINT / name
        if source.is_dir():
            shutil.copytree(
                source,
                destination / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy2(source, destination / name)
    for layer in DATA_LAYERS:
        (destination / "data" / layer).mkdir(parents=True, exist_ok=True)
    return destination


def run_kedro(
    project: Path, *args: str, check: bool = True, timeout: int = 1800
) -> subprocess.CompletedProcess:
    """Run the real kedro CLI in ``project`` (a subprocess: MLflow state stays isolated). Its
    output must be quiet (tests/quiet_output.py) whether or not it succeeds."""
    completed = subprocess.run(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        env={
            **{k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"},
            "KEDRO_DISABLE_TELEMETRY": "1",
            "COLUMNS": "1000",  # rich writes each log message on one line
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f"kedro {' '.join(args)} failed ({completed.returncode}):\n{completed.stderr[-6000:]}"
        )
    printed = noise(completed.stdout + completed.stderr)
    assert not printed, f"kedro {' '.join(args)} printed warnings a run should not: {printed[:5]}"
    return completed


@contextlib.contextmanager
def mlflow_experiment_kept(monkeypatch) -> Iterator[None]:
    """Around an in-process Kedro command (e.g. ``kedro vertexai compile``): kedro-mlflow sets
    an active experiment of the store it opens (a module global and the MLFLOW_EXPERIMENT_ID
    variable); both are put back afterwards, or a later test's runs would look for that
    experiment in its own store ("No Experiment with id=1")."""
    import mlflow.tracking.fluent

    monkeypatch.setattr(mlflow.tracking.fluent, "_active_experiment_id", None)
    had_experiment = os.environ.get("MLFLOW_EXPERIMENT_ID")
    try:
        yield
    finally:
        if had_experiment is None:
            os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
        else:
            os.environ["MLFLOW_EXPERIMENT_ID"] = had_experiment


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


# The image a compiled test spec names, through the variable conf/gcp/vertexai.yml reads.
IMAGE_VARIABLE = "ga4_mlops_IMAGE".upper()
IMAGE_NAME = "ga4-mlops".replace("_", "-")
VERTEX_IMAGE = f"europe-west4-docker.pkg.dev/blueprint-test-project/ml/{IMAGE_NAME}:test"


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
    monkeypatch.setenv(IMAGE_VARIABLE, VERTEX_IMAGE)
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

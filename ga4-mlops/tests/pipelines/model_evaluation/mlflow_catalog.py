"""Build a pipeline's catalog entries from its real YAML inside an MLflow run on sqlite.

Shared by the test_catalog modules of model_evaluation, model_explanation and
drift_monitoring: each saves real node outputs through these entries and then reads the run
back with MlflowClient, so the catalog types are checked end to end (no mocks).
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog
from mlflow.tracking import MlflowClient

from ga4_mlops.config_resolvers import CUSTOM_RESOLVERS

BLUEPRINT = Path(__file__).resolve().parents[3]
SAVE_VERSION = "2026-01-02T03.04.05.678Z"


def catalog_config(pipeline: str, project: Path) -> dict:
    """The entries of ``conf/base/catalog_<pipeline>.yml`` as Kedro's config loader reads them
    (YAML anchors resolved, ``_``-prefixed keys dropped)."""
    base = project / "conf" / "base"
    base.mkdir(parents=True, exist_ok=True)
    (project / "conf" / "local").mkdir(exist_ok=True)
    for name in ("globals.yml", f"catalog_{pipeline}.yml"):
        shutil.copy2(BLUEPRINT / "conf" / "base" / name, base / name)
    loader = OmegaConfigLoader(
        conf_source=str(project / "conf"),
        base_env="base",
        default_run_env="local",
        custom_resolvers=CUSTOM_RESOLVERS,
    )
    return loader["catalog"]


@contextmanager
def run_with_catalog(
    pipeline: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[DataCatalog, str]]:
    """The catalog of ``pipeline`` (relative paths land in ``project``), inside an active
    MLflow run whose id is yielded. Tracking is a sqlite file in ``project``."""
    monkeypatch.chdir(project)
    catalog = DataCatalog.from_config(catalog_config(pipeline, project), save_version=SAVE_VERSION)
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    try:
        with mlflow.start_run() as run:
            yield catalog, run.info.run_id
    finally:
        mlflow.set_tracking_uri(previous_uri)


def _client(project: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


def artifact_paths(project: Path, run_id: str) -> set[str]:
    """Every file logged as an artifact of the run, as a path relative to its artifact root."""
    client, files, folders = _client(project), set(), [None]
    while folders:
        for item in client.list_artifacts(run_id, folders.pop()):
            if item.is_dir:
                folders.append(item.path)
            else:
                files.add(item.path)
    return files


def run_metrics(project: Path, run_id: str) -> dict[str, float]:
    return _client(project).get_run(run_id).data.metrics


def local_version(project: Path, filepath: str) -> Path:
    """Where a versioned dataset saved with SAVE_VERSION lives under ``project``."""
    path = project / filepath
    return path / SAVE_VERSION / path.name

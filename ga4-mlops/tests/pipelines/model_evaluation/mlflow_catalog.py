"""Test helpers shared by model_evaluation, model_explanation and drift_monitoring.

Read a pipeline's real catalog and parameters YAML the way Kedro does, build its catalog
inside an MLflow run on sqlite (test_catalog: node outputs are saved through the real entries
and the run is read back with MlflowClient, no mocks), and run a pipeline with Kedro's runner
on in-memory inputs (test_pipeline).
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner
from mlflow.tracking import MlflowClient

from ga4_mlops.config_resolvers import CUSTOM_RESOLVERS
from tests.kedro_cli import list_artifact_files

BLUEPRINT = Path(__file__).resolve().parents[3]
SAVE_VERSION = "2026-01-02T03.04.05.678Z"


def pipeline_config(kind: str, pipeline: str, project: Path) -> dict:
    """``conf/base/<kind>_<pipeline>.yml`` (kind: catalog or parameters) as Kedro's config
    loader reads it: globals resolved, YAML anchors merged, ``_``-prefixed keys dropped."""
    base = project / "conf" / "base"
    base.mkdir(parents=True, exist_ok=True)
    (project / "conf" / "local").mkdir(exist_ok=True)
    for name in ("globals.yml", f"{kind}_{pipeline}.yml"):
        shutil.copy2(BLUEPRINT / "conf" / "base" / name, base / name)
    loader = OmegaConfigLoader(
        conf_source=str(project / "conf"),
        base_env="base",
        default_run_env="local",
        custom_resolvers=CUSTOM_RESOLVERS,
    )
    return loader[kind]


def catalog_config(pipeline: str, project: Path) -> dict:
    return pipeline_config("catalog", pipeline, project)


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
    return list_artifact_files(_client(project), run_id)


def run_metrics(project: Path, run_id: str) -> dict[str, float]:
    return _client(project).get_run(run_id).data.metrics


def local_version(project: Path, filepath: str) -> Path:
    """Where a versioned dataset saved with SAVE_VERSION lives under ``project``."""
    path = project / filepath
    return path / SAVE_VERSION / path.name


def parameters(pipeline: str, project: Path) -> dict:
    """The pipeline's parameters from ``conf/base/parameters_<pipeline>.yml`` (globals resolved)."""
    return pipeline_config("parameters", pipeline, project)[pipeline]


class _RetainedMemoryDataset(MemoryDataset):
    """Keeps its data when the runner releases it, so a test can read intermediate outputs."""

    def _release(self) -> None:
        pass


def run_in_memory(pipeline: Pipeline, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run ``pipeline`` with Kedro's runner on in-memory inputs; return every output's data."""
    catalog = DataCatalog({name: MemoryDataset(data=value) for name, value in inputs.items()})
    for name in pipeline.all_outputs():
        catalog[name] = _RetainedMemoryDataset()
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}

"""Save any Kedro dataset, versioned with the run like the rest of the catalog, then log the
written file to MLflow as an artifact of the run.

Why not kedro-mlflow's ``MlflowArtifactDataset``: with Kedro >= 0.19.10 (still with Kedro 1.7
and kedro-mlflow 2.0.3) a ``versioned: true`` wrapped dataset gets a save version of its own
and the first save fails with ``VersionAlreadyExistsError`` ("All datasets in the catalog must
have the same save version"); and it logs with ``mlflow.log_artifact(path)``, which needs a
local file, so a ``gs://`` path fails. kedro-datasets has no MLflow dataset.

Public API only (``kedro.io``, ``mlflow``, ``fsspec``): no attribute of another class is read
or written, so the module can be copied into another project as it is.

Example catalog entry (``versioned: true`` on the outer entry: the catalog then passes its
``Version``, with any ``--load-versions``, and the wrapped dataset is built with it)::

    evaluation_metrics:
      type: >-
        recommender_ranking.datasets.versioned_mlflow_artifact_dataset.VersionedMlflowArtifactDataset
      versioned: true
      artifact_path: evaluation   # optional folder inside the run's artifacts
      dataset:
        type: pandas.CSVDataset
        filepath: ${globals:data_root}/08_reporting/evaluation_metrics.csv

Logging goes to the run ``run_id`` when given, else to the active run (the one kedro-mlflow
starts for ``kedro run``). With no active run (tracking disabled for the pipeline, or the
dataset used outside ``kedro run``) the data is saved and nothing is logged.
"""

import logging
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import mlflow
from kedro.io import AbstractDataset, Version
from kedro.io.core import generate_timestamp

logger = logging.getLogger(__name__)


class VersionedMlflowArtifactDataset(AbstractDataset[Any, Any]):
    """Save through the wrapped dataset (same save version as the catalog), then log the file."""

    def __init__(
        self,
        dataset: str | dict[str, Any],
        artifact_path: str | None = None,
        run_id: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        version: Version | None = None,
    ) -> None:
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        if "filepath" not in config:
            raise ValueError(
                f"VersionedMlflowArtifactDataset: the wrapped dataset {config.get('type')!r} "
                "needs a 'filepath' (the file that is logged to MLflow)"
            )
        if "versioned" in config:
            raise ValueError(
                f"VersionedMlflowArtifactDataset ({config['filepath']}): put 'versioned: true' "
                "on the outer catalog entry, not inside 'dataset:' (the catalog's version is "
                "handed to the wrapped dataset)"
            )
        if credentials is not None:
            config["credentials"] = credentials
        self._filepath = str(config["filepath"])
        self._storage_options = dict(credentials or {})
        self._artifact_path = artifact_path
        self._run_id = run_id
        self.metadata = metadata
        # The save version is fixed here (the catalog's, or a timestamp when used alone), so
        # the path written is known without asking the wrapped dataset for it.
        self._save_version = None
        if version is not None:
            self._save_version = version.save or generate_timestamp()
            config["versioned"] = True
        self._dataset = AbstractDataset.from_config(
            f"{config['type']}({self._filepath})",
            config,
            load_version=version.load if version else None,
            save_version=self._save_version,
        )

    def load(self) -> Any:
        return self._dataset.load()

    def save(self, data: Any) -> None:
        self._dataset.save(data)
        run_id = self._run_id or _active_run_id()
        if run_id is None:
            logger.info("No active MLflow run: %s saved, not logged", self._saved_path())
            return
        self._log(run_id)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _release(self) -> None:
        self._dataset.release()

    def _describe(self) -> dict[str, Any]:
        return {
            "dataset": str(self._dataset),
            "artifact_path": self._artifact_path,
            "run_id": self._run_id,
            "save_version": self._save_version,
        }

    def _saved_path(self) -> str:
        """Kedro's documented layout of a versioned file: ``<filepath>/<version>/<name>``."""
        if self._save_version is None:
            return self._filepath
        name = PurePosixPath(self._filepath).name
        return f"{self._filepath.rstrip('/')}/{self._save_version}/{name}"

    def _log(self, run_id: str) -> None:
        filesystem, path = fsspec.core.url_to_fs(self._saved_path(), **self._storage_options)
        if _is_local(filesystem):
            _log_local(Path(path), self._artifact_path, run_id)
            return
        # MLflow logs local files only: copy a remote file (or folder) to a temporary folder.
        with tempfile.TemporaryDirectory() as folder:
            local_path = Path(folder) / PurePosixPath(path).name
            filesystem.get(path, str(local_path), recursive=filesystem.isdir(path))
            _log_local(local_path, self._artifact_path, run_id)


def _active_run_id() -> str | None:
    run = mlflow.active_run()
    return run.info.run_id if run else None


def _is_local(filesystem: fsspec.AbstractFileSystem) -> bool:
    protocols = (
        (filesystem.protocol,) if isinstance(filesystem.protocol, str) else filesystem.protocol
    )
    return "file" in protocols or "local" in protocols


def _log_local(local_path: Path, artifact_path: str | None, run_id: str) -> None:
    """A file goes under ``artifact_path``; a folder (one file per figure, for example) goes
    under ``artifact_path/<folder name>``."""
    client = mlflow.MlflowClient()
    if local_path.is_dir():
        folder = "/".join(part for part in (artifact_path, local_path.name) if part)
        client.log_artifacts(run_id, str(local_path), folder)
    else:
        client.log_artifact(run_id, str(local_path), artifact_path)

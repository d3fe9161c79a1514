"""A kedro-mlflow ``MlflowArtifactDataset`` whose wrapped dataset can be versioned and remote.

Two gaps of kedro-mlflow 1.0.2 with Kedro 1.1, both met by every ``kedro run``:

- Versioning. kedro-mlflow builds the wrapped dataset itself, so ``versioned: true`` inside
  ``dataset:`` gives it a save version of its own (the time it was built). Kedro >= 0.19.10
  requires all versioned datasets of a catalog to share the catalog's save version and raises
  ``VersionAlreadyExistsError`` when such an entry is materialised (kedro-mlflow's hook
  materialises every entry, so any run fails, whatever pipeline it runs). Here
  ``versioned: true`` goes on the outer entry: Kedro passes the catalog's ``Version`` (with
  any ``--load-versions``) and it is handed to the wrapped dataset.
- Remote paths. kedro-mlflow logs the saved file with ``mlflow.log_artifact(path)``, which
  needs a local file: with a ``gs://`` filepath it fails. Here a remote file (or folder) is
  copied to a temporary folder first and logged from there.

Example catalog entry::

    evaluation_metrics:
      type: ga4_mlops.datasets.versioned_mlflow_artifact_dataset.VersionedMlflowArtifactDataset
      versioned: true
      artifact_path: evaluation   # optional folder inside the run's artifacts
      dataset:
        type: pandas.CSVDataset
        filepath: ${globals:data_root}/08_reporting/evaluation_metrics.csv

The object returned is kedro-mlflow's own dynamic wrapper class, so kedro-mlflow's hook still
recognises it (and switches its logging off when tracking is disabled for a pipeline).
"""

import tempfile
import types
from pathlib import Path, PurePosixPath
from typing import Any

import mlflow
from kedro.io.core import AbstractDataset, Version, get_filepath_str
from kedro_mlflow.io.artifacts import MlflowArtifactDataset
from mlflow.tracking import MlflowClient

LOCAL_PROTOCOLS = ("file", "local")


def _save_then_log_a_local_copy(self: Any, data: Any) -> None:
    """Save with kedro-mlflow's logging off, then log a local copy of what was written."""
    # Before saving: a versioned dataset refuses to resolve a save path that already exists.
    remote_path = get_filepath_str(self._get_save_path(), self._protocol)
    logging_activated = self._logging_activated
    self._logging_activated = False
    try:
        type(self).save(self, data)
    finally:
        self._logging_activated = logging_activated
    if not logging_activated:
        return
    with tempfile.TemporaryDirectory() as folder:
        local_path = Path(folder) / PurePosixPath(remote_path).name
        self._fs.get(remote_path, str(local_path), recursive=True)
        if self.run_id:
            MlflowClient().log_artifact(self.run_id, str(local_path), self.artifact_path)
        else:
            mlflow.log_artifact(str(local_path), self.artifact_path)


class VersionedMlflowArtifactDataset(MlflowArtifactDataset):
    """Save (versioned with the run's save version, local or remote), then log to MLflow."""

    def __new__(
        cls,
        dataset: str | dict[str, Any],
        run_id: str | None = None,
        artifact_path: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        version: Version | None = None,
    ) -> AbstractDataset:
        inner_config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        # The wrapped dataset must be built versioned (paths are resolved in its __init__),
        # but with the catalog's Version, never with a timestamp of its own.
        inner_config["versioned"] = version is not None
        instance = MlflowArtifactDataset.__new__(
            MlflowArtifactDataset,
            dataset=inner_config,
            run_id=run_id,
            artifact_path=artifact_path,
            credentials=credentials,
            metadata=metadata,
        )
        if version is not None:
            instance._version = version
            instance._version_cache.clear()
        if getattr(instance, "_protocol", "file") not in LOCAL_PROTOCOLS and hasattr(
            instance, "_fs"
        ):
            instance.save = types.MethodType(_save_then_log_a_local_copy, instance)
        return instance

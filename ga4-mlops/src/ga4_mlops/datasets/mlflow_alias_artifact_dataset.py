"""An artifact of the run behind a registered model's alias: saved to this run, loaded from
the run whose model version the alias points at.

Why this exists: monitoring must compare the champion's scores with the champion's own
references (its training rows, its out-of-sample test scores), not with the files of the
latest training run, which may have been refused by the quality gate. kedro-mlflow's
``MlflowArtifactDataset`` loads an artifact of a run id fixed in the catalog, and its
``MlflowModelRegistryDataset`` loads the model itself, never another artifact of the run
behind an alias; kedro-datasets has nothing for MLflow. This dataset resolves
alias -> version -> run id at load time, like ``MlflowModelAliasDataset`` for the model.

Public API only (``kedro.io``, ``mlflow``): works with any artifact store MLflow reaches.
"""

import logging
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)


class MlflowAliasArtifactDataset(AbstractDataset[Any, Any]):
    """``save(data)`` writes ``data`` with the wrapped dataset and logs the file to the active
    run under ``artifact_path``; ``load()`` reads that file from the run that logged the model
    version ``alias`` points at (a later run refused by the quality gate is never read).

    No ``_exists``: whether it exists depends on the registry, and ``load()`` says what is
    missing (no version with the alias, or no such artifact in its run) better than the
    project's missing-inputs check could. ``file_name`` is the artifact's name inside
    ``artifact_path``; the wrapped dataset (a type, or a config without ``filepath``: Kedro
    would make a ``filepath`` absolute) reads and writes it in a temporary folder.

    Example catalog entry::

        drift_reference_rows:
          type: ga4_mlops.datasets.mlflow_alias_artifact_dataset.MlflowAliasArtifactDataset
          model_name: ga4_propensity
          alias: champion
          artifact_path: drift_reference
          file_name: train_rows.parquet
          dataset: pandas.ParquetDataset
    """

    def __init__(
        self,
        model_name: str,
        alias: str,
        dataset: str | dict[str, Any],
        artifact_path: str,
        file_name: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        where = f"MlflowAliasArtifactDataset ({model_name}@{alias}, artifact '{artifact_path}')"
        if "filepath" in config:
            raise ValueError(
                f"{where}: the wrapped dataset takes no 'filepath'; name the artifact's file "
                f"with 'file_name' (got dataset filepath {config['filepath']!r})"
            )
        if not file_name or PurePosixPath(file_name).name != file_name:
            raise ValueError(
                f"{where}: 'file_name' must be a file name (the artifact's name inside "
                f"'{artifact_path}'), got {file_name!r}"
            )
        self._model_name = model_name
        self._alias = alias
        self._config = config
        self._file_name = file_name
        self._artifact_path = artifact_path.strip("/")
        self.metadata = metadata

    @property
    def _artifact(self) -> str:
        return f"{self._artifact_path}/{self._file_name}"

    def _describe(self) -> dict[str, Any]:
        return {
            "model_name": self._model_name,
            "alias": self._alias,
            "artifact": self._artifact,
            "dataset": self._config.get("type"),
        }

    def _wrapped(self, folder: Path) -> AbstractDataset:
        return AbstractDataset.from_config(
            self._file_name, {**self._config, "filepath": str(folder / self._file_name)}
        )

    def save(self, data: Any) -> None:
        run = mlflow.active_run()
        if run is None:
            raise DatasetError(
                f"Cannot log artifact '{self._artifact}': no active MLflow run. It belongs to "
                f"the run that registers a version of '{self._model_name}' (the training run)."
            )
        with tempfile.TemporaryDirectory() as folder:
            self._wrapped(Path(folder)).save(data)
            MlflowClient().log_artifact(
                run.info.run_id, str(Path(folder) / self._file_name), self._artifact_path
            )

    def _run_behind_alias(self) -> tuple[str, str]:
        client = MlflowClient()
        try:
            version = client.get_model_version_by_alias(self._model_name, self._alias)
        except MlflowException as error:
            raise DatasetError(
                f"No version of registered model '{self._model_name}' has alias "
                f"'{self._alias}' in the registry at {mlflow.get_tracking_uri()}: artifact "
                f"'{self._artifact}' is read from the run behind that version. Run `kedro run "
                "--pipelines=training` first; a version gets the alias only when it passes the "
                "quality gate (params model_registry.quality_gate)."
            ) from error
        if not version.run_id:
            raise DatasetError(
                f"Version {version.version} of registered model '{self._model_name}' (alias "
                f"'{self._alias}') has no run_id: expected the run that logged "
                f"'{self._artifact}'."
            )
        return str(version.version), version.run_id

    def load(self) -> Any:
        version, run_id = self._run_behind_alias()
        with tempfile.TemporaryDirectory() as folder:
            try:
                local_path = mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=self._artifact, dst_path=folder
                )
            except (MlflowException, OSError) as error:
                raise DatasetError(
                    f"Run {run_id} behind version {version} of registered model "
                    f"'{self._model_name}' (alias '{self._alias}') has no artifact "
                    f"'{self._artifact}': expected the file the training run logs with the "
                    "model (a version registered before it was logged needs a new training "
                    "run)."
                ) from error
            logger.info(
                "%s from version %s of %s (alias '%s', run %s)",
                self._artifact,
                version,
                self._model_name,
                self._alias,
                run_id,
            )
            return self._wrapped(Path(local_path).parent).load()

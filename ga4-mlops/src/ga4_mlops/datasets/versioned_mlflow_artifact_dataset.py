"""A kedro-mlflow ``MlflowArtifactDataset`` whose wrapped dataset can be versioned.

kedro-mlflow 1.0.2 builds the wrapped dataset itself, so ``versioned: true`` inside
``dataset:`` gives it a save version of its own (the timestamp of its creation). Kedro >= 0.19.10
requires every versioned dataset of a catalog to share the catalog's save version and raises
``VersionAlreadyExistsError`` as soon as such an entry is materialised, i.e. in every
``kedro run``. Here ``versioned: true`` goes on the outer entry instead: Kedro then passes the
catalog's ``Version`` (with any ``--load-versions``) and it is handed to the wrapped dataset.

Example catalog entry::

    evaluation_metrics:
      type: ga4_mlops.datasets.versioned_mlflow_artifact_dataset.VersionedMlflowArtifactDataset
      versioned: true
      artifact_path: evaluation   # optional folder inside the run's artifacts
      dataset:
        type: pandas.CSVDataset
        filepath: data/08_reporting/evaluation_metrics.csv

The object returned is kedro-mlflow's own dynamic wrapper class, so kedro-mlflow's hook still
recognises it (and switches its logging off when tracking is disabled for a pipeline).
"""

from typing import Any

from kedro.io.core import AbstractDataset, Version
from kedro_mlflow.io.artifacts import MlflowArtifactDataset


class VersionedMlflowArtifactDataset(MlflowArtifactDataset):
    """Save locally (versioned with the run's save version), then log the file to MLflow."""

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
        return instance

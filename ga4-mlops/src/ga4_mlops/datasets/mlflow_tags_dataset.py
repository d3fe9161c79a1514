"""Set tags on the active MLflow run from a node's output.

Why this exists: a decision (retrain or not) must be searchable in MLflow
(``tags.retraining.decision = 'retrain'``); kedro-mlflow logs parameters, metrics and
artifacts through datasets but has no dataset for tags, kedro-datasets neither.
"""

from typing import Any, NoReturn

import mlflow
from kedro.io import AbstractDataset, DatasetError

MAX_TAG_LENGTH = 5000


class MlflowTagsDataset(AbstractDataset[dict[str, Any], None]):
    """``save({name: value})`` sets each tag (``prefix`` + name, value as text, cut at 5,000
    characters) on the active run. Write-only: the tags live in MLflow.

    Example catalog entry::

        retraining_tags:
          type: ga4_mlops.datasets.mlflow_tags_dataset.MlflowTagsDataset
          prefix: retraining.
    """

    def __init__(self, prefix: str = "", metadata: dict[str, Any] | None = None) -> None:
        self._prefix = prefix
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"prefix": self._prefix}

    def load(self) -> NoReturn:
        raise DatasetError("MlflowTagsDataset is write-only: read the tags in MLflow")

    def save(self, data: dict[str, Any]) -> None:
        if mlflow.active_run() is None:
            raise DatasetError(f"Cannot set tags {sorted(data)}: no active MLflow run")
        mlflow.set_tags(
            {f"{self._prefix}{name}": str(value)[:MAX_TAG_LENGTH] for name, value in data.items()}
        )

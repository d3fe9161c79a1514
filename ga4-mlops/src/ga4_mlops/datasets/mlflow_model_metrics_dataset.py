"""Metrics of the runs behind every version of a registered MLflow model, as a table.

Why this exists: realized performance is compared with the figures the model had on its
test split when it was registered, per model version (weeks scored by an older champion
compare with that champion's figures). kedro-mlflow's datasets load a model or a run's
metrics history by run id, never the metrics of a registered model's versions by name;
kedro-datasets has nothing for the registry.
"""

from typing import Any, NoReturn

import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from mlflow.tracking import MlflowClient

COLUMNS = ["model_version", "metric", "value"]


class MlflowModelMetricsDataset(AbstractDataset[None, pd.DataFrame]):
    """``load()``: one row per (model_version, metric) for the metrics of each version's run
    whose name starts with ``metric_prefix``, the prefix removed. Read-only; an unknown
    model gives an empty table (nothing registered yet is not an error for monitoring).

    Example catalog entry::

        registered_model_test_metrics:
          type: ga4_mlops.datasets.mlflow_model_metrics_dataset.MlflowModelMetricsDataset
          model_name: ga4_propensity
          metric_prefix: test.model_calibrated.
    """

    def __init__(
        self, model_name: str, metric_prefix: str = "", metadata: dict[str, Any] | None = None
    ) -> None:
        self._model_name = model_name
        self._metric_prefix = metric_prefix
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "metric_prefix": self._metric_prefix}

    def save(self, data: None) -> NoReturn:
        raise DatasetError("MlflowModelMetricsDataset is read-only: 'save' is not supported")

    def load(self) -> pd.DataFrame:
        client = MlflowClient()
        rows = []
        for version in client.search_model_versions(f"name='{self._model_name}'"):
            if not version.run_id:
                continue
            metrics = client.get_run(version.run_id).data.metrics
            rows += [
                {
                    "model_version": str(version.version),
                    "metric": name[len(self._metric_prefix) :],
                    "value": float(value),
                }
                for name, value in metrics.items()
                if name.startswith(self._metric_prefix)
            ]
        table = pd.DataFrame(rows, columns=COLUMNS)
        return table.sort_values(["model_version", "metric"], ignore_index=True)

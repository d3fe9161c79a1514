"""Log a pyfunc model with its own signature and input example, and register it.

kedro-mlflow's ``MlflowModelTrackingDataset`` takes ``log_model`` arguments from YAML only, so
it cannot pass the signature and input example that the model computes from real sessions;
kedro-datasets has nothing for MLflow. Promotion by alias: mlflow_model_alias_dataset.py.
"""

from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError

from recommender_gnn.serving_requirements import serving_requirements


class MlflowPyfuncModelDataset(AbstractDataset[Any, Any]):
    """``save(model)`` logs a ``mlflow.pyfunc.PythonModel`` to the active run and registers it.

    The model's ``signature`` and ``input_example`` attributes (when present) are logged with it.

    Example catalog entry::

        gnn_model:
          type: recommender_gnn.datasets.mlflow_pyfunc_model_dataset.MlflowPyfuncModelDataset
          model_name: recommender_gnn
          artifact_path: gnn_model
          code_paths: [src/recommender_gnn]
          serving_packages: [mlflow, torch, torch-geometric, pandas, numpy]

    ``serving_packages``: the model's requirements are these and what they pull in, pinned
    from ``lock_file`` (``serving_requirements``), not the whole development lock (whose
    kedro-vertexai asks for mlflow<3 while the lock has mlflow 3: no environment manager
    but ``local`` could build it). Copied from the ga4-mlops blueprint.
    """

    def __init__(
        self,
        model_name: str,
        artifact_path: str,
        code_paths: list[str] | None = None,
        serving_packages: list[str] | None = None,
        lock_file: str = "requirements.lock",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._model_name = model_name
        self._artifact_path = artifact_path
        self._code_paths = code_paths
        self._serving_packages = list(serving_packages or [])
        self._lock_file = lock_file
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "model_name": self._model_name,
            "artifact_path": self._artifact_path,
            "serving_packages": self._serving_packages,
        }

    def save(self, data: Any) -> None:
        if mlflow.active_run() is None:
            raise DatasetError(
                f"Cannot log model '{self._model_name}': no active MLflow run (kedro-mlflow "
                "starts one for `kedro run`)."
            )
        mlflow.pyfunc.log_model(
            name=self._artifact_path,
            python_model=data,
            registered_model_name=self._model_name,
            signature=getattr(data, "signature", None),
            input_example=getattr(data, "input_example", None),
            code_paths=self._code_paths,
            pip_requirements=(
                serving_requirements(*self._serving_packages, lock=self._lock_file)
                if self._serving_packages
                else None
            ),
        )

    def load(self) -> Any:
        raise DatasetError(
            f"'{self._model_name}' is written here, not read: load it by alias "
            "(MlflowModelAliasDataset) or with mlflow.pyfunc.load_model('models:/NAME@ALIAS')."
        )

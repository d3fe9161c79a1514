"""Log a pyfunc model with its signature and input example, and register it.

kedro-mlflow's ``MlflowModelTrackingDataset`` passes fixed ``save_args`` from the catalog to
``log_model``: an input example taken from the run's data cannot go there, and without one
the model has no signature. With a signature, MLflow checks every request before ``predict``
(``mlflow models serve`` answers HTTP 400 "Model is missing inputs [...]" instead of running
the model on a frame without the column), and the registry shows the input columns.
kedro-datasets has no MLflow dataset.
Kit file: kit/files/src/recommender_ranking/datasets/signed_pyfunc_model_dataset.py (kit/sync.py).
"""

from typing import Any

import mlflow
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from mlflow.models import infer_signature

from recommender_ranking.serving_requirements import serving_requirements


class SignedPyfuncModelDataset(AbstractDataset[dict[str, Any], None]):
    """``save({"python_model": PythonModel, "input_example": DataFrame, "signature":
    ModelSignature, "metadata": dict})`` (signature and metadata optional) logs the model to the
    active run with the example and the signature, inferred from the example when not given
    (input columns and the predictions on the example), then registers it as a new version of
    ``registered_model_name``. Load the model through the registry (by alias), not from here.

    Example catalog entry::

        model:
          type: recommender_ranking.datasets.signed_pyfunc_model_dataset.SignedPyfuncModelDataset
          name: model
          registered_model_name: recommender_ranking
          serving_packages: [mlflow, lightgbm, scikit-learn, pandas, numpy]
          log_model_args:
            code_paths: [src/recommender_ranking]

    ``serving_packages``: the model's requirements are these and what they pull in, pinned
    from ``lock_file`` (``serving_requirements``), not the whole development lock.
    """

    def __init__(
        self,
        name: str,
        registered_model_name: str,
        log_model_args: dict[str, Any] | None = None,
        serving_packages: list[str] | None = None,
        lock_file: str = "requirements.lock",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._name = name
        self._serving_packages = list(serving_packages or [])
        self._lock_file = lock_file
        self._registered_model_name = registered_model_name
        self._log_model_args = dict(log_model_args or {})
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "name": self._name,
            "registered_model_name": self._registered_model_name,
            "log_model_args": self._log_model_args,
            "serving_packages": self._serving_packages,
        }

    def save(self, data: dict[str, Any]) -> None:
        missing = {"python_model", "input_example"} - set(data)
        if missing:
            raise DatasetError(
                f"Model '{self._name}': save() takes a dict with 'python_model' and "
                f"'input_example'; {sorted(missing)} missing"
            )
        if mlflow.active_run() is None:
            raise DatasetError(
                f"Cannot log model '{self._name}': no active MLflow run (kedro-mlflow starts "
                "one for `kedro run`)."
            )
        model, example = data["python_model"], pd.DataFrame(data["input_example"])
        signature = data.get("signature") or infer_signature(example, model.predict(None, example))
        requirements = (
            {
                "pip_requirements": serving_requirements(
                    *self._serving_packages, lock=self._lock_file
                )
            }
            if self._serving_packages
            else {}
        )
        mlflow.pyfunc.log_model(
            name=self._name,
            python_model=model,
            input_example=example,
            signature=signature,
            metadata=data.get("metadata"),
            registered_model_name=self._registered_model_name,
            **requirements,
            **self._log_model_args,
        )

    def load(self) -> None:
        raise DatasetError(
            f"Model '{self._name}' is save-only: load a registered version by alias "
            f"(models:/{self._registered_model_name}@<alias>)."
        )

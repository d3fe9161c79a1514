"""Log a pyfunc model with its own signature and input example; promote a version by alias.

kedro-mlflow's ``MlflowModelTrackingDataset`` takes ``log_model`` arguments from YAML only, so
it cannot pass the signature and input example that the model computes from real sessions;
its ``MlflowModelRegistryDataset`` loads ``models:/name@alias`` but cannot set an alias and
fails when none exists yet; kedro-datasets has nothing for MLflow. These two datasets do that,
so logging, promotion and loading by alias stay in the Data Catalog (never a run id).
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from recommender_gnn.serving_requirements import serving_requirements

logger = logging.getLogger(__name__)


class MlflowPyfuncModelDataset(AbstractDataset[Any, Any]):
    """``save(model)`` logs a ``mlflow.pyfunc.PythonModel`` to the active run and registers it.

    The model's ``signature`` and ``input_example`` attributes (when present) are logged with it.

    Example catalog entry::

        gnn_model:
          type: recommender_gnn.datasets.mlflow_model_alias_dataset.MlflowPyfuncModelDataset
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


@dataclass(frozen=True)
class RegisteredModel:
    """A model loaded from the registry, with the version its alias pointed at."""

    name: str
    alias: str
    version: str
    model: Any  # mlflow.pyfunc.PyFuncModel


class MlflowModelAliasDataset(AbstractDataset[dict, RegisteredModel | None]):
    """``save(decision)`` points ``alias`` at the version registered by the active run when
    ``decision["promote"]`` is true (and records the decision as version tags);
    ``load()`` returns the model the alias points at, or None when ``missing_ok`` and no
    version has the alias yet (the first run of a project).

    Example catalog entry::

        champion_model:
          type: recommender_gnn.datasets.mlflow_model_alias_dataset.MlflowModelAliasDataset
          model_name: recommender_gnn
          alias: champion
    """

    def __init__(
        self,
        model_name: str,
        alias: str,
        missing_ok: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._model_name = model_name
        self._alias = alias
        self._missing_ok = missing_ok
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self._model_name, "alias": self._alias}

    def save(self, data: dict) -> None:
        run = mlflow.active_run()
        if run is None:
            raise DatasetError(
                f"Cannot promote '{self._model_name}': no active MLflow run. The model "
                "version to promote is the one registered by the current kedro run."
            )
        client = MlflowClient()
        versions = client.search_model_versions(
            f"name='{self._model_name}' and run_id='{run.info.run_id}'"
        )
        if not versions:
            raise DatasetError(
                f"No version of registered model '{self._model_name}' was created by run "
                f"{run.info.run_id}: save the model (gnn_model) before promoting it."
            )
        version = str(max(int(v.version) for v in versions))
        client.set_model_version_tag(self._model_name, version, "promoted", str(data["promote"]))
        client.set_model_version_tag(
            self._model_name, version, "quality_gate", json.dumps(data.get("checks", {}))[:5000]
        )
        if data["promote"]:
            client.set_registered_model_alias(self._model_name, self._alias, version)
            logger.info("Model %s version %s is now '%s'", self._model_name, version, self._alias)
        else:
            logger.warning(
                "Model %s version %s failed the quality gate and was not promoted to '%s': %s",
                self._model_name,
                version,
                self._alias,
                data.get("failed_checks"),
            )

    def load(self) -> RegisteredModel | None:
        client = MlflowClient()
        try:
            version = client.get_model_version_by_alias(self._model_name, self._alias).version
        except MlflowException as error:
            if self._missing_ok:
                logger.info("No '%s' of '%s' yet", self._alias, self._model_name)
                return None
            raise DatasetError(
                f"No version of registered model '{self._model_name}' has alias "
                f"'{self._alias}' in the registry at {mlflow.get_tracking_uri()}: run "
                "`kedro run --pipelines=training` first; a version gets the alias only when "
                "it passes the quality gate (params model_registry.quality_gate)."
            ) from error
        model = mlflow.pyfunc.load_model(f"models:/{self._model_name}@{self._alias}")
        return RegisteredModel(self._model_name, self._alias, str(version), model)

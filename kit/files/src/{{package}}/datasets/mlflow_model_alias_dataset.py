"""Promote a registered MLflow model version by alias, and load a model by alias.

kedro-mlflow's ``MlflowModelRegistryDataset`` loads ``models:/name@alias`` but cannot set
an alias and does not say which version it loaded; kedro-datasets has nothing for the
registry. This dataset does both, so promotion and scoring stay in the Data Catalog.
Kit file: kit/files/src/{{package}}/datasets/mlflow_model_alias_dataset.py (kit/sync.py).
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegisteredModel:
    """A model loaded from the registry, with the version its alias pointed at."""

    name: str
    alias: str
    version: str
    model: Any  # mlflow.pyfunc.PyFuncModel


class MlflowModelAliasDataset(AbstractDataset[dict, RegisteredModel]):
    """``save(decision)`` points ``alias`` at the version registered by the active run when
    ``decision["promote"]`` is true (and records the decision, its checks and the failed ones,
    as version tags);
    ``load()`` returns the model the alias points at, never a hard-coded run id.

    Example catalog entry::

        champion_model:
          type: {{package}}.datasets.mlflow_model_alias_dataset.MlflowModelAliasDataset
          model_name: {{package}}
          alias: champion
    """

    def __init__(
        self,
        model_name: str,
        alias: str,
        missing_ok: bool = False,
        metadata: dict[str, Any] | None = None,
    ):
        """``missing_ok``: ``load()`` returns None when no version has the alias yet (the
        quality gate's view of the current champion on a first run)."""
        self._model_name = model_name
        self._alias = alias
        self._missing_ok = missing_ok
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "model_name": self._model_name,
            "alias": self._alias,
            "missing_ok": self._missing_ok,
        }

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
                f"{run.info.run_id}: register the model in the same run before promoting it."
            )
        version = str(max(int(v.version) for v in versions))
        client.set_model_version_tag(self._model_name, version, "promoted", str(data["promote"]))
        client.set_model_version_tag(
            self._model_name, version, "quality_gate", json.dumps(data.get("checks", {}))[:5000]
        )
        client.set_model_version_tag(
            self._model_name, version, "failed_checks", ",".join(data.get("failed_checks", []))
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
                logger.info("No version of %s has alias '%s' yet", self._model_name, self._alias)
                return None
            raise DatasetError(
                f"No version of registered model '{self._model_name}' has alias "
                f"'{self._alias}' in the registry at {mlflow.get_tracking_uri()}: run `kedro run` "
                "first (the default pipeline trains and registers a version); a version gets "
                "the alias only when it passes the quality gate (params model_registry)."
            ) from error
        model = mlflow.pyfunc.load_model(f"models:/{self._model_name}@{self._alias}")
        return RegisteredModel(self._model_name, self._alias, str(version), model)

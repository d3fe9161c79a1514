"""The alias dataset (a kit file) on MLflow with sqlite: promotion needs the run's own version."""

import mlflow
import pytest
from kedro.io import DatasetError

from ga4_mlops.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset


def test_promotion_needs_a_version_registered_by_the_active_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    champion = MlflowModelAliasDataset(model_name="nothing", alias="champion")
    with pytest.raises(DatasetError, match="no active MLflow run"):
        champion.save({"promote": True})
    with (
        mlflow.start_run(),
        pytest.raises(DatasetError, match="No version of registered model 'nothing'"),
    ):
        champion.save({"promote": True})

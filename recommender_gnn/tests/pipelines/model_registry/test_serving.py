"""The registered GNN as a serving environment sees it: requirements pinned from the lock
without Kedro, scoring in a fresh interpreter that cannot import Kedro, and a clear refusal
of a champion packaged in another SessionRecommender format."""

from pathlib import Path

import mlflow
import pytest
import yaml

from recommender_gnn.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from recommender_gnn.datasets.signed_pyfunc_model_dataset import SignedPyfuncModelDataset
from recommender_gnn.pipelines.model_registry.nodes import (
    FORMAT_VERSION,
    IncompatibleModelError,
    score_champion,
    sessions_with_aids,
)
from tests.pipelines.model_registry.test_nodes import _package
from tests.pipelines.session_data import (
    BLUEPRINT,
    N_ITEMS,
    item_map,
    tiny_split,
    trained_checkpoint,
)
from tests.serving_helpers import locked_versions, score_without

SERVING_ROOTS = yaml.safe_load((BLUEPRINT / "conf/base/catalog_model_registry.yml").read_text())[
    "gnn_model"
]["serving_packages"]
LOCKED = locked_versions()
# What a serving environment built from the model's requirements.txt cannot import.
PIPELINE_PACKAGES = (
    "kedro", "kedro_mlflow", "kedro_datasets", "kedro_vertexai", "optuna", "duckdb",
    "google.cloud",
)  # fmt: skip
NOT_FOR_SERVING = {
    "kedro", "kedro-vertexai", "kedro-mlflow", "kedro-datasets", "kedro-viz", "optuna",
    "google-cloud-aiplatform", "gcsfs", "duckdb", "pytest", "ruff",
}  # fmt: skip


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A sqlite registry in ``tmp_path`` (also the working directory)."""
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    yield tmp_path
    mlflow.set_tracking_uri("")


def register_champion(model) -> MlflowModelAliasDataset:
    """``model`` logged with the catalog's serving roots and promoted as 'champion'."""
    logged = SignedPyfuncModelDataset(
        name="gnn_model",
        registered_model_name="gnn",
        log_model_args={"code_paths": [str(BLUEPRINT / "src/recommender_gnn")]},
        serving_packages=SERVING_ROOTS,
        lock_file=str(BLUEPRINT / "requirements.lock"),
    )
    champion = MlflowModelAliasDataset(model_name="gnn", alias="champion")
    with mlflow.start_run():
        logged.save(model)
        champion.save({"promote": True})
    return champion


@pytest.fixture
def champion(registry):
    _, valid, labels = tiny_split()
    return register_champion(_package(trained_checkpoint(max_epochs=1), valid, labels)[0])


def test_registered_requirements_pin_the_serving_roots_from_the_lock(champion):
    path = mlflow.pyfunc.get_model_dependencies("models:/gnn@champion")
    lines = [line.strip() for line in Path(path).read_text().splitlines() if "==" in line]
    pins = dict(line.split("==") for line in lines)
    assert {"torch", "torch-geometric", "pandas", "numpy", "mlflow"} <= set(SERVING_ROOTS)
    assert {root: pins.get(root) for root in SERVING_ROOTS} == {
        root: LOCKED[root] for root in SERVING_ROOTS
    }
    assert all(LOCKED.get(name) == version for name, version in pins.items())
    assert sorted(NOT_FOR_SERVING & set(pins)) == []
    assert len(pins) < len(LOCKED) * 2 / 3


def test_the_champion_scores_a_request_in_a_fresh_process_like_in_process(champion, tmp_path):
    _, valid, _ = tiny_split()
    sessions = valid["session"].drop_duplicates().head(3)
    request = sessions_with_aids(valid[valid["session"].isin(sessions)], item_map(N_ITEMS))
    served = score_without(
        "models:/gnn@champion",
        request,
        PIPELINE_PACKAGES,
        f"sqlite:///{tmp_path}/mlflow.db",
        tmp_path,
    )
    in_process = champion.load().model.predict(request)
    assert served["columns"] == ["session", "event_type", "aid", "rank", "score"]
    assert served["columns"] == list(in_process.columns)
    rows = [dict(zip(served["columns"], row, strict=True)) for row in served["data"]]
    assert len(rows) == len(in_process) == 3 * 3 * 20  # 3 sessions, 3 event types, top 20
    for column in ("session", "event_type", "aid", "rank"):
        assert [row[column] for row in rows] == in_process[column].tolist(), column
    assert [row["score"] for row in rows] == pytest.approx(in_process["score"].tolist())


@pytest.mark.parametrize("packaged_format", [None, FORMAT_VERSION - 1])
def test_a_champion_packaged_in_another_format_is_refused_by_name(packaged_format, registry):
    """As a champion registered by older code: ``score_champion`` stops the run naming the
    model, version and formats (never an AttributeError inside predict, never skipped)."""
    _, valid, labels = tiny_split()
    packaged, _ = _package(trained_checkpoint(max_epochs=1), valid, labels)
    model = packaged["python_model"]
    del model.scoring  # what the older code's SessionRecommender lacked
    if packaged_format is None:
        del model.format_version
    else:
        model.format_version = packaged_format
    champion = register_champion(packaged).load()
    found = packaged_format or "none \\(older code\\)"
    with pytest.raises(
        IncompatibleModelError,
        match=rf"Registered model 'gnn' version 1 \(alias 'champion'.*format {found}; this "
        rf"code expects format {FORMAT_VERSION}.*delete_registered_model_alias",
    ):
        score_champion(champion, valid, labels, item_map(N_ITEMS))
    with pytest.raises(IncompatibleModelError, match=f"packaged in format {found}"):
        champion.model.predict(sessions_with_aids(valid, item_map(N_ITEMS)))

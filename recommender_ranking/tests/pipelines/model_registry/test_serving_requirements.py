"""The registered ranker asks for what scoring needs, pinned from the lock, and scores a request
in a fresh interpreter that cannot import Kedro, faiss or torch (a serving environment)."""

from pathlib import Path

import mlflow
import pytest

from recommender_ranking.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from tests.pipelines.model_registry.test_registry import (
    NAME,
    SERVING_ROOTS,
    fit,
    ranking_features,
    run_registry,
)
from tests.serving_helpers import locked_versions, score_without

COLUMNS = ["signal", "noise"]
LOCKED = locked_versions()
# What a serving environment built from the model's requirements.txt cannot import.
PIPELINE_PACKAGES = (
    "kedro", "kedro_mlflow", "kedro_datasets", "kedro_vertexai", "faiss", "torch", "optuna",
    "duckdb", "google.cloud",
)  # fmt: skip
NOT_FOR_SERVING = {
    "kedro", "kedro-vertexai", "kedro-mlflow", "kedro-datasets", "faiss-cpu", "torch",
    "optuna", "google-cloud-aiplatform", "duckdb", "pytest", "ruff",
}  # fmt: skip


@pytest.fixture
def champion(tmp_path):
    """A ranker registered and promoted by the registry steps (catalog's roots), in a sqlite
    registry in ``tmp_path``; yields the candidate table."""
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_experiment("serving_test")
    table = ranking_features()
    assert run_registry(table, fit(table, COLUMNS), COLUMNS, ranker_map=0.5)["promote"]
    yield table
    mlflow.set_tracking_uri("")


def test_registered_requirements_pin_the_serving_roots_from_the_lock(champion):
    path = mlflow.pyfunc.get_model_dependencies(f"models:/{NAME}@champion")
    lines = [line.strip() for line in Path(path).read_text().splitlines() if "==" in line]
    pins = dict(line.split("==") for line in lines)
    assert {"mlflow", "lightgbm", "scikit-learn", "pandas", "numpy"} <= set(SERVING_ROOTS)
    assert {root: pins.get(root) for root in SERVING_ROOTS} == {
        root: LOCKED[root] for root in SERVING_ROOTS
    }
    assert all(LOCKED.get(name) == version for name, version in pins.items())
    assert sorted(NOT_FOR_SERVING & set(pins)) == []
    assert len(pins) < len(LOCKED) / 2


def test_the_champion_scores_a_request_in_a_fresh_process_like_in_process(champion, tmp_path):
    request = champion[champion["week"] == 0].head(7)[COLUMNS].astype("float64")
    request.index = range(100, 107)  # the answer keeps the request's row ids
    served = score_without(
        f"models:/{NAME}@champion",
        request,
        PIPELINE_PACKAGES,
        f"sqlite:///{tmp_path}/mlflow.db",
        tmp_path,
    )
    expected = MlflowModelAliasDataset(model_name=NAME, alias="champion").load().model
    in_process = expected.predict(request)
    assert served["columns"] == ["score"] == list(in_process.columns)
    assert served["index"] == list(range(100, 107)) == list(in_process.index)
    assert [row[0] for row in served["data"]] == pytest.approx(in_process["score"].tolist())
    assert len(set(in_process["score"].round(9))) > 1  # a real ranking, not one constant

"""The registered ranker asks for what scoring needs, pinned from the lock, and scores a request
in a fresh interpreter that cannot import Kedro, faiss or torch (a serving environment)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import pytest

from recommender_ranking.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from recommender_ranking.serving_requirements import serving_requirements
from tests.kedro_cli import BLUEPRINT
from tests.pipelines.model_registry.test_registry import (
    NAME,
    SERVING_ROOTS,
    fit,
    ranking_features,
    run_registry,
)

COLUMNS = ["signal", "noise"]
LOCKED = dict(
    line.split()[0].split("==")
    for line in (BLUEPRINT / "requirements.lock").read_text().splitlines()
    if "==" in line and not line.startswith("#")
)
NOT_FOR_SERVING = {
    "kedro", "kedro-vertexai", "kedro-mlflow", "kedro-datasets", "faiss-cpu", "torch",
    "optuna", "google-cloud-aiplatform", "duckdb", "pytest", "ruff",
}  # fmt: skip

# Importing any of these fails in the child, as in an environment built from requirements.txt.
SCORE_IN_A_FRESH_PROCESS = """
import importlib.abc, json, sys
BLOCKED = ("kedro", "kedro_mlflow", "kedro_datasets", "kedro_vertexai", "faiss", "torch",
           "optuna", "duckdb", "google.cloud")

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in BLOCKED):
            raise ImportError(f"{name} is not installed in a serving environment")

sys.meta_path.insert(0, Block())
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
answer = model.predict(pd.read_json(sys.argv[2], orient="split"))
print(answer.to_json(orient="split"))
"""


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


def test_roots_and_what_they_pull_in_nothing_else(tmp_path, monkeypatch):
    (tmp_path / "requirements.lock").write_text(
        textwrap.dedent("""\
            # lock-inputs-sha256: 0
            kedro==1.7.0              # via kedro-mlflow, app (pyproject.toml)
            lightgbm==4.7.0           # via app (pyproject.toml)
            numpy==2.4.6              # via lightgbm, scipy, faiss-cpu
            faiss-cpu==1.15.1         # via app (pyproject.toml)
            scipy==1.17.1             # via lightgbm
            """)
    )
    monkeypatch.chdir(tmp_path)
    assert serving_requirements("LightGBM") == ["lightgbm==4.7.0", "numpy==2.4.6", "scipy==1.17.1"]
    with pytest.raises(ValueError, match=r"requirements.lock pins no \['xgboost'\]"):
        serving_requirements("lightgbm", "xgboost")


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
    answer = subprocess.run(
        [
            sys.executable,
            "-c",
            SCORE_IN_A_FRESH_PROCESS,
            f"models:/{NAME}@champion",
            request.to_json(orient="split"),
        ],
        cwd=tmp_path,
        env={**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    served = json.loads(answer.stdout.strip().splitlines()[-1])
    expected = MlflowModelAliasDataset(model_name=NAME, alias="champion").load().model
    in_process = expected.predict(request)
    assert served["columns"] == ["score"] == list(in_process.columns)
    assert served["index"] == list(range(100, 107)) == list(in_process.index)
    assert [row[0] for row in served["data"]] == pytest.approx(in_process["score"].tolist())
    assert len(set(in_process["score"].round(9))) > 1  # a real ranking, not one constant

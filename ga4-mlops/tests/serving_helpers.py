"""What the serving tests share: the lock's pins, and a registered model scored in a fresh
interpreter that cannot import the pipeline's packages, as in an environment built from the
model's requirements.txt. Kit file: kit/files/tests/serving_helpers.py (kit/sync.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.kedro_cli import BLUEPRINT

SCORE_WITHOUT = """
import importlib.abc, sys
BLOCKED = tuple(sys.argv[3].split(","))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in BLOCKED):
            raise ImportError(f"{name} is not installed in a serving environment")

sys.meta_path.insert(0, Block())
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
print(model.predict(pd.read_parquet(sys.argv[2])).to_json(orient="split"))
"""


def locked_versions(lock: Path = BLUEPRINT / "requirements.lock") -> dict[str, str]:
    """Package -> version of every pin of the lock."""
    return dict(
        line.split()[0].split("==")
        for line in lock.read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )


def score_without(
    model_uri: str, rows: pd.DataFrame, blocked: tuple[str, ...], tracking_uri: str, work: Path
) -> dict:
    """``rows`` scored by ``model_uri`` in a fresh interpreter where importing any of
    ``blocked`` (or a submodule) fails: the answer as served, ``{"columns", "index", "data"}``."""
    request = work / "serving_request.parquet"
    rows.to_parquet(request)
    answer = subprocess.run(
        [sys.executable, "-c", SCORE_WITHOUT, model_uri, str(request), ",".join(blocked)],
        cwd=work,
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    return json.loads(answer.stdout.strip().splitlines()[-1])

"""The served model asks for what scoring needs, pinned from the lock, and runs without Kedro."""

import os
import re
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
import yaml

from ga4_mlops.serving_requirements import serving_requirements
from tests.conftest import registered_model
from tests.kedro_cli import BLUEPRINT

# Packages a scoring environment must not install: the pipeline framework, tuning and
# explanation, the Google SDKs (Vertex AI, BigQuery, GCS), the local SQL engine, dev tools.
NOT_FOR_SERVING = re.compile(
    r"^(kedro.*|optuna.*|shap|kfp.*|google-cloud-.*|gcsfs|pandas-gbq|duckdb|sqlglot"
    r"|pytest.*|ruff|ipython|jupyter.*)$"
)
SERVING_ROOTS = yaml.safe_load((BLUEPRINT / "conf/base/catalog.yml").read_text())[
    "propensity_model"
]["serving_packages"]


def names(pins: list[str]) -> set[str]:
    return {pin.split("==")[0] for pin in pins}


def test_roots_and_what_they_pull_in_nothing_else(tmp_path, monkeypatch):
    (tmp_path / "requirements.lock").write_text(
        textwrap.dedent("""\
            # lock-inputs-sha256: 0
            kedro==1.7.0              # via kedro-mlflow, app (pyproject.toml)
            lightgbm==4.7.0           # via app (pyproject.toml)
            numpy==2.4.6              # via lightgbm, scipy, kedro-datasets
            rich==14.0.0              # via kedro
            scipy==1.17.1             # via lightgbm
            Typing_Extensions==4.16.0 # via numpy
            """)
    )
    monkeypatch.chdir(tmp_path)
    assert serving_requirements("LightGBM") == [
        "lightgbm==4.7.0",
        "numpy==2.4.6",
        "scipy==1.17.1",
        "Typing_Extensions==4.16.0",
    ]
    with pytest.raises(ValueError, match=r"requirements.lock pins no \['xgboost'\]"):
        serving_requirements("lightgbm", "xgboost")


def test_the_configured_serving_set_leaves_out_pipeline_cloud_and_dev_packages(monkeypatch):
    monkeypatch.chdir(BLUEPRINT)
    pins = serving_requirements(*SERVING_ROOTS)
    locked = {
        line.split()[0] for line in (BLUEPRINT / "requirements.lock").read_text().splitlines()
    }
    assert set(pins) <= locked  # the training run's exact versions
    assert {"mlflow", "lightgbm", "scikit-learn", "pandas", "numpy"} <= names(pins)
    assert sorted(n for n in names(pins) if NOT_FOR_SERVING.match(n)) == []
    assert len(pins) < len(locked) / 2


# Runs in a fresh interpreter where importing any of these fails, as in a serving
# environment built from the model's requirements.txt.
LOAD_WITHOUT_PIPELINE_PACKAGES = """
import importlib.abc, sys
BLOCKED = ("kedro", "kedro_mlflow", "kedro_datasets", "optuna", "optuna_integration", "shap",
           "duckdb", "sqlglot", "kfp", "google.cloud")

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in BLOCKED):
            raise ImportError(f"{name} is not installed in a serving environment")

sys.meta_path.insert(0, Block())
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
rows = pd.read_parquet(sys.argv[2])
print(len(model.predict(rows)))
"""


def test_the_champion_loads_and_scores_without_kedro_and_lists_only_serving_pins(tiny_project):
    model = registered_model(tiny_project)
    uri = f"models:/{model['name']}@{model['alias']}"
    tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{tiny_project / 'mlflow.db'}"}
    scoring_set = pd.read_parquet(tiny_project / "data/05_model_input/scoring_set.parquet")
    rows = tiny_project / "serving_rows.parquet"
    scoring_set.head(20).to_parquet(rows)

    answer = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_PIPELINE_PACKAGES, uri, str(rows)],
        cwd=tiny_project,
        env={**os.environ, **tracking},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    assert answer.stdout.strip().splitlines()[-1] == "20"

    requirements = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mlflow, sys; "
            "print(open(mlflow.pyfunc.get_model_dependencies(sys.argv[1])).read())",
            uri,
        ],
        cwd=tiny_project,
        env={**os.environ, **tracking},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert requirements.returncode == 0, requirements.stderr[-3000:]
    listed = [
        line.strip()
        for line in requirements.stdout.splitlines()
        if "==" in line and not line.startswith("#")
    ]
    assert "lightgbm" in names(listed)
    assert sorted(n for n in names(listed) if NOT_FOR_SERVING.match(n)) == []

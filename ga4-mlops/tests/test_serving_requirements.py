"""The served model asks for what scoring needs, pinned from the lock, and runs without Kedro."""

import os
import re
import subprocess
import sys

import pandas as pd
import yaml

from ga4_mlops.serving_requirements import serving_requirements
from tests.conftest import registered_model
from tests.kedro_cli import BLUEPRINT
from tests.serving_helpers import score_without

# Packages a scoring environment must not install: the pipeline framework, tuning and
# explanation, the Google SDKs (Vertex AI, BigQuery, GCS), the local SQL engine, dev tools.
NOT_FOR_SERVING = re.compile(
    r"^(kedro.*|optuna.*|shap|kfp.*|google-cloud-.*|gcsfs|pandas-gbq|duckdb|sqlglot"
    r"|pytest.*|ruff|ipython|jupyter.*)$"
)
# What a serving environment built from the model's requirements.txt cannot import.
PIPELINE_PACKAGES = (
    "kedro", "kedro_mlflow", "kedro_datasets", "optuna", "optuna_integration", "shap", "duckdb",
    "sqlglot", "kfp", "google.cloud",
)  # fmt: skip
SERVING_ROOTS = yaml.safe_load((BLUEPRINT / "conf/base/catalog.yml").read_text())[
    "propensity_model"
]["serving_packages"]


def names(pins: list[str]) -> set[str]:
    return {pin.split("==")[0] for pin in pins}


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


def test_the_champion_loads_and_scores_without_kedro_and_lists_only_serving_pins(tiny_project):
    model = registered_model(tiny_project)
    uri = f"models:/{model['name']}@{model['alias']}"
    tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{tiny_project / 'mlflow.db'}"}
    scoring_set = pd.read_parquet(tiny_project / "data/05_model_input/scoring_set.parquet")
    served = score_without(
        uri, scoring_set.head(20), PIPELINE_PACKAGES, tracking["MLFLOW_TRACKING_URI"], tiny_project
    )
    assert len(served["data"]) == 20

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

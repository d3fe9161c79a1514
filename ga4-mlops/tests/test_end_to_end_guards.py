"""What a failing or rejected training run must leave alone, through the real kedro CLI.

Runs after tests/test_end_to_end.py on the same tiny project (its first run made version 1
the champion).
"""

import hashlib
import json
import pickle
from pathlib import Path

import mlflow
import pandas as pd
import yaml

from tests.conftest import TINY_PARAMS
from tests.kedro_cli import BLUEPRINT, latest_version, run_kedro

VERSIONED_LAYERS = ("06_models", "07_model_output", "08_reporting")


def registered_model() -> tuple[str, str]:
    registered = yaml.safe_load((BLUEPRINT / "conf/base/globals.yml").read_text())
    return registered["registered_model"]["name"], registered["registered_model"]["alias"]


def versioned_files(data: Path) -> dict[Path, str]:
    """Every file of every versioned dataset (``<name>/<version>/<name>``), with its digest."""
    files = {}
    for layer in VERSIONED_LAYERS:
        for dataset in (data / layer).iterdir():
            if not dataset.is_dir():
                continue
            for file in dataset.glob("*/*"):
                if file.is_file():
                    files[file] = hashlib.sha256(file.read_bytes()).hexdigest()
    return files


def load(file: Path) -> object:
    suffix = file.suffix
    if suffix == ".pkl":
        with file.open("rb") as handle:
            return pickle.load(handle)
    if suffix == ".parquet":
        return pd.read_parquet(file)
    if suffix == ".csv":
        return pd.read_csv(file)
    if suffix == ".json":
        return json.loads(file.read_text())
    return file.read_bytes()


def test_a_run_failing_late_keeps_every_earlier_version_intact_and_loadable(tiny_project):
    data = tiny_project / "data"
    before = versioned_files(data)
    metrics_folder = data / "08_reporting" / "evaluation_metrics.csv"
    metrics_versions = len(list(metrics_folder.iterdir()))
    mlflow.set_tracking_uri(f"sqlite:///{tiny_project / 'mlflow.db'}")
    name, alias = registered_model()
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias(name, alias).version

    failed = run_kedro(
        tiny_project,
        "run",
        "--env=local",
        "--pipelines=training",
        "--params",
        TINY_PARAMS + ",model_registry.quality_gate.candidate=no_such_model",
        check=False,
    )

    assert failed.returncode != 0
    assert "has no model 'no_such_model'" in failed.stderr
    # The failing node (the quality gate) ran after this run had written versioned outputs.
    assert len(list(metrics_folder.iterdir())) == metrics_versions + 1
    after = versioned_files(data)
    assert {file: after.get(file) for file in before} == before
    for file in before:
        assert load(file) is not None
    assert client.get_model_version_by_alias(name, alias).version == champion
    assert mlflow.pyfunc.load_model(f"models:/{name}@{alias}") is not None


def test_a_model_the_gate_rejects_stays_registered_and_the_champion_keeps_its_alias(
    tiny_project,
):
    mlflow.set_tracking_uri(f"sqlite:///{tiny_project / 'mlflow.db'}")
    name, alias = registered_model()
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias(name, alias).version

    run_kedro(
        tiny_project,
        "run",
        "--env=local",
        "--pipelines=training",
        "--params",
        TINY_PARAMS + ",model_registry.quality_gate.min_roc_auc=0.999",
    )

    assert client.get_model_version_by_alias(name, alias).version == champion
    newest = max(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))
    assert int(newest.version) > int(champion)
    assert newest.tags["promoted"] == "False"
    assert newest.tags["failed_checks"] == "roc_auc"
    reports = tiny_project / "data" / "08_reporting"
    card = json.loads(latest_version(reports / "model_card.json").read_text())
    decision = card["promotion"]
    assert decision["promote"] is False
    assert decision["failed_checks"] == ["roc_auc"]
    # Compared with the champion, both scored on this run's test split: the same data and
    # seed give the same model, so the figures agree and only the absolute floor fails.
    assert decision["compared_with"]["model"] == "champion"
    assert decision["compared_with"]["version"] == str(champion)
    assert (
        abs(
            decision["compared_with"]["metrics"]["roc_auc"]
            - decision["candidate"]["metrics"]["roc_auc"]
        )
        < 1e-9
    )
    assert decision["checks"]["roc_auc_drop_vs_champion"]["passed"] is True

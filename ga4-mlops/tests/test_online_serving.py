"""The registered champion served by ``mlflow models serve`` answers like batch scoring."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import registered_model
from tests.kedro_cli import latest_version


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, server: subprocess.Popen, timeout_seconds: float = 120) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"mlflow models serve exited: {server.stderr.read()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    raise AssertionError(f"no answer from {url}/ping within {timeout_seconds} s")


@pytest.fixture
def served_champion(tiny_project):
    port = free_loopback_port()
    model = registered_model(tiny_project)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            f"models:/{model['name']}@{model['alias']}",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=tiny_project,
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": f"sqlite:///{tiny_project / 'mlflow.db'}",
            # mlflow starts `uvicorn` by name: the environment's bin folder must be on PATH
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: uvicorn's workers stop with it
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def feature_columns(project: Path) -> list[str]:
    columns = yaml.safe_load((project / "conf" / "base" / "parameters_model_input.yml").read_text())
    roles = columns["model_input"]["columns"]
    return [*roles["numeric"], *roles["categorical"]]


def invoke(url: str, rows: pd.DataFrame) -> tuple[int, dict]:
    """POST rows to /invocations; the HTTP status and the JSON answer (also on errors)."""
    body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
    request = urllib.request.Request(
        f"{url}/invocations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_served_model_returns_the_batch_probabilities(tiny_project, served_champion):
    data = tiny_project / "data"
    scoring_set = pd.read_parquet(data / "05_model_input" / "scoring_set.parquet").head(200)
    batch_scores = pd.read_parquet(
        latest_version(data / "07_model_output" / "batch_scores.parquet")
    ).head(200)

    status, answer = invoke(served_champion, scoring_set[feature_columns(tiny_project)])
    assert status == 200
    predictions = pd.DataFrame(answer["predictions"])

    np.testing.assert_allclose(
        predictions["raw_probability"], batch_scores["raw_probability"], rtol=1e-9
    )
    np.testing.assert_allclose(
        predictions["calibrated_probability"], batch_scores["calibrated_probability"], rtol=1e-9
    )


def test_served_model_names_a_missing_column_in_a_client_error(tiny_project, served_champion):
    """The registered signature makes MLflow check the request before predict: HTTP 400 with
    the missing column's name, neither a traceback nor a score computed without it."""
    scoring_set = pd.read_parquet(tiny_project / "data" / "05_model_input" / "scoring_set.parquet")
    rows = scoring_set[feature_columns(tiny_project)].head(3).drop(columns="country")
    status, answer = invoke(served_champion, rows)
    assert status == 400
    assert "Model is missing inputs ['country']" in answer["message"]
    assert "predictions" not in answer
    assert "Traceback" not in json.dumps(answer)

"""OpenMP's wait policy is set before the pipelines load, the same everywhere the blueprint
runs (openmp.py). Kit file."""

import os
import subprocess
import sys

import pytest

from tests.kedro_cli import BLUEPRINT

READ_OPENMP = (
    "import os, recommender_ranking.settings; "
    "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
)
OPENMP_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "passive None"),
        ({"OMP_WAIT_POLICY": "active"}, "active None"),
        ({"GOMP_SPINCOUNT": "10000"}, "None 10000"),
    ],
)
def test_settings_make_openmp_wait_passively_unless_the_environment_says_otherwise(given, expected):
    environment = {k: v for k, v in os.environ.items() if k not in OPENMP_VARIABLES}
    completed = subprocess.run(
        [sys.executable, "-c", READ_OPENMP],
        env={**environment, **given},
        capture_output=True,
        text=True,
        check=True,
    )
    # the last line: importing the settings also sets up Kedro's logging, which says so first
    assert completed.stdout.strip().splitlines()[-1] == expected


def test_every_place_the_blueprint_runs_sets_the_same_openmp_wait_policy():
    """Makefile (kit.mk), image (so Vertex AI steps), dev container and tests agree with
    settings.py."""
    expected = "OMP_WAIT_POLICY=passive"
    makefile = (BLUEPRINT / "kit.mk").read_text()
    assert "export OMP_WAIT_POLICY ?= passive" in makefile
    assert expected in (BLUEPRINT / "Dockerfile").read_text()
    devcontainer = (BLUEPRINT / ".devcontainer" / "devcontainer.json").read_text()
    assert '"OMP_WAIT_POLICY": "passive"' in devcontainer
    assert os.environ.get("OMP_WAIT_POLICY") == "passive" or "GOMP_SPINCOUNT" in os.environ


def test_no_openmp_runtime_is_loaded_before_the_settings():
    """libgomp reads OMP_WAIT_POLICY once, when loaded: the Kedro CLI with its plugins must not
    load it before settings.py has run."""
    probe = (
        "from pathlib import Path\n"
        "from kedro.framework.cli.cli import KedroCLI\n"
        "KedroCLI(Path.cwd())\n"
        "print('GOMP', [line for line in open('/proc/self/maps') if 'gomp' in line])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=BLUEPRINT, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip().splitlines()[-1] == "GOMP []"

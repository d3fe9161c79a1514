"""Project settings that act before the pipelines load."""

import os
import subprocess
import sys

import pytest

from tests.conftest import BLUEPRINT

READ_SPINCOUNT = "import os, ga4_mlops.settings; print(os.environ['GOMP_SPINCOUNT'])"


@pytest.mark.parametrize(("given", "expected"), [(None, "10000"), ("300000", "300000")])
def test_settings_bound_openmp_spinning_unless_the_environment_says_otherwise(given, expected):
    environment = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    if given is not None:
        environment["GOMP_SPINCOUNT"] = given
    completed = subprocess.run(
        [sys.executable, "-c", READ_SPINCOUNT],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == expected


def test_no_openmp_runtime_is_loaded_before_the_settings():
    """libgomp reads GOMP_SPINCOUNT once, when loaded: the Kedro CLI with its plugins must not
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

"""What the tests of tools/vertex_sim.py (make vertex-sim) share: parameters baked into a
copy's conf, the simulator run as a process, a step's output read back.
Kit file: kit/files/tests/vertex_sim_helpers.py (kit/sync.py)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from tests.kedro_cli import BLUEPRINT

SIMULATOR = BLUEPRINT / "tools" / "vertex_sim.py"


def write_params(project: Path, params: str) -> None:
    """Set ``a.b=value`` pairs in the copy's conf/base: compiling bakes conf's parameters into
    the spec, so the simulation cannot take them from the command line."""
    for pair in params.split(","):
        key, value = pair.split("=", 1)
        path = key.split(".")
        files = sorted((project / "conf" / "base").glob("parameters*.yml"))
        file = next(f for f in files if path[0] in (yaml.safe_load(f.read_text()) or {}))
        content = yaml.safe_load(file.read_text())
        node = content
        for part in path[:-1]:
            node = node[part]
        assert path[-1] in node, f"parameter {key} is not in {file.name}"
        node[path[-1]] = yaml.safe_load(value)
        file.write_text(yaml.safe_dump(content, sort_keys=False))


def vertex_sim(project: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SIMULATOR), "--project", str(project), "--work", str(work), *args],
        capture_output=True,
        text=True,
        timeout=1200,
    )


def read(path: Path) -> pd.DataFrame:
    if path.is_dir():  # a versioned dataset: its one version
        (path,) = path.glob(f"*/{path.name}")
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)

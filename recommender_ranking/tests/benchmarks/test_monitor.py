"""The benchmark's watchdog: memory of the process tree per Kedro node, and the kill switch."""

import sys

from tests.kedro_cli import BLUEPRINT

sys.path.insert(0, str(BLUEPRINT / "benchmarks"))
from monitor import run_monitored

# A child that logs two "nodes" like Kedro and holds ~400 MB during the first one.
CHILD = """
import time
print("INFO Running node: allocate_memory: f([x]) -> [y]", flush=True)
block = bytearray(400 * 1024**2)
time.sleep(2.5)
del block
print("INFO Running node: small_node: g([y]) -> [z]", flush=True)
time.sleep(1.5)
"""


def test_memory_and_time_are_attributed_to_the_running_node(tmp_path):
    run = run_monitored(
        [sys.executable, "-c", CHILD], tmp_path, tmp_path / "run.log", limit_gb=50, interval=0.2
    )
    assert run.returncode == 0 and run.killed_at_gb is None
    nodes = {row["node"]: row for row in run.nodes()}
    assert list(nodes) == ["allocate_memory", "small_node"]
    assert nodes["allocate_memory"]["peak_gb"] > 0.38
    assert nodes["small_node"]["seconds"] >= 1.0
    assert run.peak_gb > 0.38
    assert "Running node: small_node" in (tmp_path / "run.log").read_text()


def test_a_run_above_the_limit_is_killed_with_its_children(tmp_path):
    grandchild = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}])"
    run = run_monitored(
        [sys.executable, "-c", grandchild], tmp_path, tmp_path / "run.log", limit_gb=0.3,
        interval=0.2,
    )  # fmt: skip
    assert run.killed_at_gb is not None and run.killed_at_gb > 0.3
    assert run.returncode != 0
    assert run.seconds < 2.5  # stopped before the child's first node ended


def test_a_run_is_stopped_when_the_machine_runs_short_of_memory(tmp_path):
    run = run_monitored(
        [sys.executable, "-c", CHILD], tmp_path, tmp_path / "run.log", limit_gb=50,
        interval=0.2, min_available_gb=1e6,
    )  # fmt: skip
    assert run.killed_at_gb is not None and run.returncode != 0
    assert "machine memory available" in run.stop_reason

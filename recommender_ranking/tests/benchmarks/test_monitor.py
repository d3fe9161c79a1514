"""benchmarks/monitor.py (a kit file), the benchmark's guard: memory of the process tree per
Kedro node, the kill switch above a limit or below a floor of available memory."""

import sys

from tests.kedro_cli import BLUEPRINT

sys.path.insert(0, str(BLUEPRINT / "benchmarks"))
from monitor import run_guarded

# A child that logs two "nodes" like Kedro and holds ~400 MB during the first one.
CHILD = """
import time
print("INFO Running node: allocate_memory: f([x]) -> [y]", flush=True)
block = bytearray(400 * 1024**2)
time.sleep(2.5)
del block
print("INFO Completed node: allocate_memory", flush=True)
print("INFO Running node: small_node: g([y]) -> [z]", flush=True)
time.sleep(1.5)
print("INFO Completed node: small_node", flush=True)
"""


def test_memory_and_time_are_attributed_to_the_running_node(tmp_path):
    run = run_guarded(
        [sys.executable, "-c", CHILD], tmp_path, tmp_path / "run.log", 50, 0, interval=0.2
    )
    assert run.returncode == 0 and run.stopped is None
    nodes = {name: (seconds, peak) for name, seconds, peak in run.nodes}
    assert list(nodes) == ["allocate_memory", "small_node", "(teardown)"]
    assert nodes["allocate_memory"][1] > 0.38
    assert nodes["small_node"][0] >= 1.0
    assert run.peak_gb > 0.38
    assert "Running node: small_node" in (tmp_path / "run.log").read_text()
    trace = (tmp_path / "run.rss.tsv").read_text().splitlines()
    assert trace[0].split("\t")[0] == "seconds" and len(trace) > 10  # every sample on disk


def test_a_run_above_the_limit_is_killed_with_its_children(tmp_path):
    grandchild = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}])"
    run = run_guarded(
        [sys.executable, "-c", grandchild], tmp_path, tmp_path / "run.log", 0.3, 0, interval=0.2
    )
    assert run.stopped is not None and "limit 0.3 GB" in run.stopped
    assert run.returncode != 0
    assert run.seconds < 2.5  # stopped before the child's first node ended


def test_a_run_is_stopped_when_the_machine_runs_short_of_memory(tmp_path):
    run = run_guarded(
        [sys.executable, "-c", CHILD], tmp_path, tmp_path / "run.log", 50, 1e6, interval=0.2
    )
    assert run.stopped is not None and run.returncode != 0
    assert "floor 1000000.0 GB" in run.stopped

"""benchmarks/node_runs.py: the memory of a process tree, forked workers included."""

import importlib.util
import subprocess
import sys
import time

from tests.kedro_cli import BLUEPRINT

SCRIPT = BLUEPRINT / "benchmarks" / "node_runs.py"
SPEC = importlib.util.spec_from_file_location("node_runs", SCRIPT)
node_runs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(node_runs)

# A parent that fills 300 MB, then forks a worker that reads all of it and writes 200 MB more.
TREE = """
import os, sys, time
import numpy as np
shared = np.ones(300_000_000 // 8)
if os.fork() == 0:
    own = np.ones(200_000_000 // 8)
    assert shared.sum() > 0
    print("ready", flush=True)
    time.sleep(30)
    os._exit(0)
time.sleep(30)
"""


def test_a_forked_workers_memory_counts_and_shared_pages_count_once_in_pss():
    process = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        rss, pss = node_runs.tree_memory_gb(process.pid)
    finally:
        process.kill()
    # RSS: the shared 300 MB in both processes, plus the worker's own 200 MB.
    assert rss > 0.75
    # PSS: the shared pages once.
    assert 0.45 < pss < rss - 0.2

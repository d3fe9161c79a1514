"""Per-node time and peak memory, measured in the process that ran the node.

Set ``RECOMMENDER_GNN_NODE_PROFILE=<file.csv>`` and every node appends one row: name, seconds,
peak resident memory in GB, from the loading of its first input to the saving of its last
output (a SQL dataset does its work while it loads: the node's own run is a fraction of it).
The peak is Linux's VmHWM of this process, reset when the node starts
(``/proc/self/clear_refs``), so a node's figure is its own and not an earlier node's or a
parent's (a spawned child's ``ru_maxrss`` starts from its parent's peak). Elsewhere (macOS, or
without the variable) the hook does nothing.
"""

from __future__ import annotations

import csv
import os
import re
import time
from pathlib import Path

from kedro.framework.hooks import hook_impl

PROFILE_VARIABLE = "RECOMMENDER_GNN_NODE_PROFILE"


def peak_memory_gb() -> float | None:
    """VmHWM of this process in GB, or None where /proc is not there."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 2**20 if found else None


def reset_peak_memory() -> bool:
    """Restart VmHWM from the current resident memory (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class NodeProfileHooks:
    """Appends (node, seconds, peak_gb) to the CSV file the environment variable names.

    Kedro loads a node's inputs, runs it, then saves its outputs: the clock starts at the first
    load (or the run, for a node without inputs) and stops after the last save.
    """

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._unsaved: dict[str, set[str]] = {}

    @staticmethod
    def _path() -> str | None:
        return os.environ.get(PROFILE_VARIABLE)

    def _start(self, node) -> None:
        if self._path() and node.name not in self._started:
            reset_peak_memory()
            self._started[node.name] = time.perf_counter()

    @hook_impl
    def before_dataset_loaded(self, dataset_name, node) -> None:
        self._start(node)

    @hook_impl
    def before_node_run(self, node) -> None:
        self._start(node)

    @hook_impl
    def after_node_run(self, node) -> None:
        if node.name in self._started:
            self._unsaved[node.name] = set(node.outputs)
            self._finish_if_saved(node)

    @hook_impl
    def after_dataset_saved(self, dataset_name, node) -> None:
        self._unsaved.get(node.name, set()).discard(dataset_name)
        self._finish_if_saved(node)

    def _finish_if_saved(self, node) -> None:
        path = self._path()
        if node.name not in self._unsaved or self._unsaved[node.name]:
            return
        del self._unsaved[node.name]
        seconds = time.perf_counter() - self._started.pop(node.name)
        new_file = not Path(path).exists()
        with open(path, "a", newline="") as out:
            writer = csv.writer(out)
            if new_file:
                writer.writerow(["node", "seconds", "peak_gb"])
            writer.writerow([node.name, f"{seconds:.2f}", f"{peak_memory_gb() or 0:.3f}"])

"""Run a command, sample the resident memory of its whole process tree every second, stop it
above a limit, and attribute time and memory to the Kedro nodes named in its log.

RSS of the tree, not GNU time's maximum of one process: Kedro, DuckDB, LightGBM and torch
threads live in one process, but `kedro run` may start helpers (MLflow, joblib workers), and
the limit must hold for all of them together on a machine shared with other jobs. The run is
also stopped when the machine's available memory falls below ``min_available_gb``: on a shared
machine the kernel's OOM killer otherwise picks a victim, possibly another job (measured: a
10% run at 15.5 GB was OOM-killed with a 20 GB limit beside other agents' runs).
"""

import contextlib
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

RUNNING_NODE = re.compile(r"Running node: ([A-Za-z0-9_.]+)")


@dataclass
class MonitoredRun:
    seconds: float = 0.0
    peak_gb: float = 0.0
    returncode: int | None = None
    killed_at_gb: float | None = None
    stop_reason: str | None = None
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, GB)
    node_starts: list[tuple[float, str]] = field(default_factory=list)  # (seconds, node)
    log_tail: list[str] = field(default_factory=list)

    def nodes(self) -> list[dict]:
        """Per node (in run order): start, seconds and the peak GB sampled while it ran."""
        rows = []
        ends = [start for start, _ in self.node_starts[1:]] + [self.seconds]
        for (start, name), end in zip(self.node_starts, ends, strict=True):
            inside = [gb for t, gb in self.samples if start <= t <= end + 1]
            rows.append(
                {
                    "node": name,
                    "start_s": round(start),
                    "seconds": round(end - start, 1),
                    "peak_gb": max(inside, default=float("nan")),
                }
            )
        return rows


def tree_rss_gb(process: psutil.Process) -> float:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total / 1024**3


def run_monitored(
    command: list[str],
    cwd: Path,
    log_path: Path,
    limit_gb: float,
    interval: float = 1.0,
    min_available_gb: float = 0.0,
) -> MonitoredRun:
    """Run ``command`` in ``cwd``; its output goes to ``log_path`` (one line per log record:
    a wide console so rich does not wrap node names). Killed (whole tree) above ``limit_gb``."""
    env = {**os.environ, "COLUMNS": "240", "PYTHONUNBUFFERED": "1"}
    run = MonitoredRun()
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def read_log() -> None:
        with open(log_path, "w") as log:
            for line in process.stdout:
                now = time.perf_counter() - started
                log.write(f"[{now:8.1f}s] {line}")
                log.flush()
                match = RUNNING_NODE.search(line)
                if match:
                    run.node_starts.append((now, match[1]))
                run.log_tail = [*run.log_tail[-40:], line.rstrip()]

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    root = psutil.Process(process.pid)
    while process.poll() is None:
        gb = tree_rss_gb(root)
        run.samples.append((time.perf_counter() - started, gb))
        run.peak_gb = max(run.peak_gb, gb)
        available = psutil.virtual_memory().available / 1024**3
        if gb > limit_gb or available < min_available_gb:
            run.killed_at_gb = gb
            run.stop_reason = (
                f"above {limit_gb:g} GB ({gb:.1f} GB)"
                if gb > limit_gb
                else f"machine memory available {available:.1f} GB < {min_available_gb:g} GB"
            )
            for member in [*root.children(recursive=True), root]:
                with contextlib.suppress(psutil.Error):
                    member.kill()
            break
        time.sleep(interval)
    run.returncode = process.wait()
    reader.join(timeout=10)
    run.seconds = time.perf_counter() - started
    return run

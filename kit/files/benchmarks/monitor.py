"""Run one command under a memory guard and record what it costs, node by node.

Peak memory is the sum of the resident sets of the whole process tree (Kedro, DuckDB's
threads, joblib or loky workers), sampled twice a second, so it over-counts pages shared
after a fork: a conservative figure. The guard kills the tree when that sum passes a limit
or when the machine's available memory falls below a floor (the machine is shared: another
job's memory counts too), so a scale run cannot take the machine down. Kedro's
``Running node:`` lines, stamped as they arrive, tell which node each sample belongs to.
Kit file: kit/files/benchmarks/monitor.py (kit/sync.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

RUNNING = re.compile(r"Running node: ([\w.\-]+)")
# A node's interval ends at its "Completed node:" line and starts at the previous one's, so
# it includes loading its inputs (the DuckDB queries) and saving its outputs.
COMPLETED = re.compile(r"Completed node: ([\w.\-]+)")
# Plain, unwrapped log lines (Kedro's default rich handler wraps them at the terminal width).
LOGGING_YAML = """\
version: 1
disable_existing_loggers: false
formatters:
  plain: {format: "%(asctime)s %(levelname)s %(name)s: %(message)s"}
handlers:
  console: {class: logging.StreamHandler, formatter: plain, stream: ext://sys.stdout}
root: {level: INFO, handlers: [console]}
"""


@dataclass
class Measured:
    """What one command cost: wall time, peak tree RSS, load, per-node peaks."""

    seconds: float
    peak_gb: float
    returncode: int
    stopped: str | None  # why the guard killed it, if it did
    load_start: float
    load_mean: float  # mean of the 1-minute load average over the samples
    load_end: float
    nodes: list[tuple[str, float, float]] = field(default_factory=list)  # name, s, peak GB
    log_tail: str = ""


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_gb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, in GB (2**30 bytes)."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_bytes(pid)
        stack.extend(_children(pid))
    return total / 2**30


def available_gb() -> float:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    return float("inf")


def load_1min() -> float:
    with open("/proc/loadavg") as handle:
        return float(handle.read().split()[0])


def run_guarded(
    command: list[str],
    cwd: Path,
    log_path: Path,
    limit_gb: float,
    min_available_gb: float,
    env: dict[str, str] | None = None,
    interval: float = 0.5,
) -> Measured:
    """Run ``command``; kill its process group when the guard trips. Log to ``log_path``."""
    logging_config = cwd / "benchmark_logging.yml"
    logging_config.write_text(LOGGING_YAML)
    env = {**os.environ, **(env or {}), "KEDRO_LOGGING_CONFIG": str(logging_config)}
    env.setdefault("OMP_WAIT_POLICY", "passive")
    load_start = load_1min()
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    marks: list[tuple[float, str]] = []  # (seconds, node) at each "Completed node:" line
    running = ["(start)"]
    tail: list[str] = []

    def read_log() -> None:
        with open(log_path, "w", buffering=1) as log:
            for line in process.stdout:
                log.write(line)
                tail.append(line)
                del tail[:-200]
                if match := RUNNING.search(line):
                    running[0] = match.group(1)
                elif match := COMPLETED.search(line):
                    marks.append((time.monotonic() - started, match.group(1)))

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    samples: list[tuple[float, float]] = []
    loads: list[float] = []
    stopped = None
    # every sample also goes to a file beside the log: figures survive an interrupted run
    with open(log_path.with_suffix(".rss.tsv"), "w", buffering=1) as trace:
        trace.write("seconds\ttree_rss_gb\tavailable_gb\tload_1min\tnode\n")
        while process.poll() is None:
            rss = tree_rss_gb(process.pid)
            samples.append((time.monotonic() - started, rss))
            loads.append(load_1min())
            free = available_gb()
            trace.write(f"{samples[-1][0]:.1f}\t{rss:.3f}\t{free:.2f}\t{loads[-1]}\t{running[0]}\n")
            if rss > limit_gb or free < min_available_gb:
                stopped = (
                    f"stopped at {rss:.1f} GB (limit {limit_gb} GB), "
                    f"{free:.1f} GB available (floor {min_available_gb} GB), "
                    f"in {running[0]} after {samples[-1][0]:.0f} s"
                )
                os.killpg(process.pid, signal.SIGKILL)
                break
            time.sleep(interval)
    process.wait()
    seconds = time.monotonic() - started
    reader.join(timeout=10)
    nodes, start = [], 0.0
    last = f"{running[0]} (unfinished)" if process.returncode else "(teardown)"
    for end, name in [*marks, (seconds, last)]:
        peak = max((rss for t, rss in samples if start <= t <= end + interval), default=0.0)
        nodes.append((name, end - start, peak))
        start = end
    return Measured(
        seconds=seconds,
        peak_gb=max((rss for _, rss in samples), default=0.0),
        returncode=process.returncode,
        stopped=stopped,
        load_start=load_start,
        load_mean=sum(loads) / len(loads) if loads else load_start,
        load_end=load_1min(),
        nodes=nodes,
        log_tail="".join(tail[-60:]),
    )


def node_report(measured: Measured, top: int = 6) -> str:
    """The nodes that took the most time and the most memory."""
    by_time = sorted(measured.nodes, key=lambda node: -node[1])[:top]
    by_memory = sorted(measured.nodes, key=lambda node: -node[2])[:top]
    lines = ["  slowest nodes:      " + ", ".join(f"{n} {s:.0f} s" for n, s, _ in by_time)]
    lines.append("  most memory:        " + ", ".join(f"{n} {g:.1f} GB" for n, _, g in by_memory))
    return "\n".join(lines)

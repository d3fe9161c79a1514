"""Nodes of a kept project, each in its own ``kedro run`` process, memory of the whole tree.

At OTTO's size a whole run does not fit one sitting, so the figures are taken node by node on
kept inputs (a copy of the project whose data/ holds them). Each node runs as
``kedro run --env=local --nodes=<node> --params=<params>``; twice a second the harness sums,
over that process and its forked workers (``processes``), the resident set (RSS: counts a page
shared after fork in every process that maps it, an upper bound) and the proportional set
(PSS: a shared page split between its sharers, the memory the tree really holds). A CSV row per
node is appended as it ends, so a long series can be stopped and resumed. A NODE may name
several, comma-separated: one process (nodes that hand a MemoryDataset over, such as
data_preparation's ``train_events``).

    python benchmarks/node_runs.py PROJECT OUT.csv NODE [NODE ...] --params processes=2 ...
"""

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path


def _tree(root: int) -> list[int]:
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as file:
                    queue += [int(child) for child in file.read().split()]
        except OSError:
            continue
    return found


def tree_memory_gb(root: int) -> tuple[float, float]:
    """(RSS, PSS) summed over the process tree, in GB (smaps_rollup, Linux >= 4.14)."""
    rss = pss = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as file:
                for line in file:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            continue
    return rss / 1e6, pss / 1e6


def run_node(project: Path, node: str, params: list[str], log: Path) -> dict:
    command = [sys.executable, "-m", "kedro", "run", "--env=local", f"--nodes={node}"]
    if params:
        command.append("--params=" + ",".join(params))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "OMP_WAIT_POLICY": "passive"}
    started = time.perf_counter()
    peak_rss = peak_pss = 0.0
    with log.open("a") as out:
        process = subprocess.Popen(command, cwd=project, stdout=out, stderr=out, env=env)
        while process.poll() is None:
            rss, pss = tree_memory_gb(process.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.5)
    return {
        "node": node,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_gb": round(peak_rss, 2),
        "peak_pss_gb": round(peak_pss, 2),
        "returncode": process.returncode,
        "params": ",".join(params),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("project", type=Path, help="a project copy whose data/ holds the inputs")
    parser.add_argument("out", type=Path, help="CSV, one row appended per node")
    parser.add_argument("nodes", nargs="+")
    parser.add_argument("--params", nargs="*", default=[], help="key=value run params")
    args = parser.parse_args()
    for node in args.nodes:
        row = run_node(args.project, node, args.params, args.out.with_suffix(".log"))
        new = not args.out.exists()
        with args.out.open("a", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        print(row, flush=True)
        if row["returncode"] != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

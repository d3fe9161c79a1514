"""Measure the blueprint against its targets: ranking quality, candidate recall, runtime, memory.

    python benchmarks/benchmark.py                       # default run + generator at 1% and 10%
    python benchmarks/benchmark.py --scales 0.01 0.1 1.0 # the real competition size too
    python benchmarks/benchmark.py --skip-default        # only the generator/preparation scales

Every run is a fresh copy of the project in a temporary folder (the real kedro CLI), so the
figures include data generation and never touch this folder's data or registry. Prints figures
and PASS/FAIL per target; exits 1 if any target fails. Peak memory is the maximum resident set
of the `kedro run` process (GNU time).
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

BLUEPRINT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "requirements.lock", "conf", "src")


def copy_project(workdir: Path) -> Path:
    project = workdir / "recommender_ranking"
    project.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = BLUEPRINT / name
        if source.is_dir():
            shutil.copytree(
                source, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(source, project / name)
    return project


def kedro_run(project: Path, *args: str) -> tuple[float, float]:
    """Seconds and peak resident memory (GB) of one `kedro run`."""
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "kedro", "run", "--env=local", *args]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=project, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"kedro run {' '.join(args)} failed:\n{completed.stderr[-5000:]}")
    peak_kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr)
    return seconds, int(peak_kb[1]) / 1024**2 if peak_kb else float("nan")


def _latest(dataset_folder: Path) -> Path:
    return sorted(dataset_folder.iterdir())[-1] / dataset_folder.name


def default_run(checks: dict[str, bool]) -> None:
    with tempfile.TemporaryDirectory(prefix="recommender-ranking-benchmark-") as workdir:
        project = copy_project(Path(workdir))
        seconds, peak_gb = kedro_run(project)
        reporting = project / "data" / "08_reporting"
        table = pd.read_csv(_latest(reporting / "evaluation_table.csv"))
        recall = pd.read_csv(_latest(reporting / "candidate_recall_report.csv"))
        transactions = pq.read_metadata(
            project / "data" / "02_intermediate" / "transactions.parquet"
        ).num_rows
    overall = table[table["segment"] == "all"].set_index("recommender")
    print(f"\ndefault run: {transactions:,} transactions, {seconds:.0f} s, peak {peak_gb:.2f} GB")
    columns = ["map_at_12_buyers", "map_at_12_all_customers", "recall_at_12"]
    print(overall[columns].round(4).to_string())
    print("\ncandidate recall on the test week (per source and union):")
    print(recall.round(4).to_string(index=False))
    ranker = overall.loc["ranker", "map_at_12_buyers"]
    baseline = overall.loc["baseline:popularity", "map_at_12_buyers"]
    union = recall.loc[recall["source"].isin(["union", "all"]), "recall"]
    checks[f"ranker MAP@12 >= 1.3 x popularity ({ranker:.4f} vs {baseline:.4f})"] = (
        ranker >= 1.3 * baseline
    )
    if len(union):
        checks[f"candidate union recall >= 60% ({union.iloc[0]:.1%})"] = union.iloc[0] >= 0.6
    checks[f"default kedro run under 600 s ({seconds:.0f} s)"] = seconds < 600


def scale_run(scale: float, checks: dict[str, bool]) -> None:
    """Generator, then data_preparation, at ``scale`` of the real competition."""
    with tempfile.TemporaryDirectory(prefix="recommender-ranking-scale-") as workdir:
        project = copy_project(Path(workdir))
        params = f"data_generation.scale={scale}"
        generation = kedro_run(project, "--pipeline=data_generation", "--params", params)
        preparation = kedro_run(project, "--pipeline=data_preparation")
        rows = pq.read_metadata(
            project / "data" / "02_intermediate" / "transactions.parquet"
        ).num_rows
    print(
        f"\nscale {scale:g}: {rows:,} transactions; generation {generation[0]:.0f} s, "
        f"peak {generation[1]:.2f} GB; preparation {preparation[0]:.0f} s, "
        f"peak {preparation[1]:.2f} GB"
    )
    limit = 24 * scale + 2  # GB: stays well inside a 24 GB laptop up to the real size
    peak = max(generation[1], preparation[1])
    checks[f"scale {scale:g}: peak memory under {limit:.1f} GB ({peak:.2f} GB)"] = peak < limit


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=float, nargs="*", default=[0.01, 0.1])
    parser.add_argument("--skip-default", action="store_true", help="only the scale runs")
    args = parser.parse_args()
    checks: dict[str, bool] = {}
    if not args.skip_default:
        default_run(checks)
    for scale in args.scales:
        scale_run(scale, checks)
    print()
    for description, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {description}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

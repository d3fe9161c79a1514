"""Measure the blueprint against its targets: ranking quality, candidate recall, runtime, memory.

    python benchmarks/benchmark.py                       # default run + generator at 1% and 10%
    python benchmarks/benchmark.py --scales 0.01 0.1 1.0 # the real competition size too
    python benchmarks/benchmark.py --skip-default        # only the generator/preparation scales
    python benchmarks/benchmark.py --skip-default --scales --full 0.01 0.1   # whole __default__
    python benchmarks/benchmark.py --skip-default --scales --full 1.0 \
        --workdir ~/ranking_100 --git-ref HEAD --limit-gb 20    # kept data, watchdog
    python benchmarks/benchmark.py --skip-default --scales --full 1.0 \
        --params ranking_sql.test_sample_per_million=100000   # any --params of kedro run
    python benchmarks/benchmark.py --skip-default --scales --steps 1.0 \
        --workdir ~/ranking_100 --git-ref HEAD                # one process per Vertex AI step

Every run is a fresh copy of the project in a temporary folder (the real kedro CLI), so the
figures include data generation and never touch this folder's data or registry. Prints figures
and PASS/FAIL per target; exits 1 if any target fails. Peak memory is the maximum resident set
of the `kedro run` process (GNU time), and in `--full` and `--steps` runs the resident memory
of the whole process tree sampled twice a second (monitor.py, a kit file; every sample also in
`<log>.rss.tsv`), which also stops a run above `--limit-gb` and attributes time and memory to
the nodes and pipelines named in Kedro's log.
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
from monitor import Measured, node_report, run_guarded

BLUEPRINT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "requirements.lock", "conf", "src")
# The gate's margin over the strongest single source (conf/base/parameters_model_registry.yml).
MIN_RATIO_TO_BEST_SOURCE = 1.05


def copy_project(workdir: Path, git_ref: str | None = None) -> Path:
    """The project's code and configuration in ``workdir/recommender_ranking`` (its ``data``
    folder, if any, is kept): from the working tree, or from the commit ``git_ref`` (so that
    uncommitted work of others is not measured)."""
    project = workdir / "recommender_ranking"
    project.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        if (project / name).is_dir():
            shutil.rmtree(project / name)
    if git_ref:
        archive = subprocess.run(
            ["git", "archive", git_ref, *PROJECT_FILES], cwd=BLUEPRINT, capture_output=True
        )
        if archive.returncode:
            sys.exit(archive.stderr.decode())
        subprocess.run(["tar", "-x", "-C", str(project)], input=archive.stdout, check=True)
        return project
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
    print("\ncandidate recall on the validation week (per source and union):")
    print(recall.round(4).to_string(index=False))
    shipped = "ranker:refit" if "ranker:refit" in overall.index else "ranker"  # the gate's row
    ranker = overall.loc[shipped, "map_at_12_buyers"]
    sources = overall.loc[
        overall.index.str.startswith(("source:", "baseline:")), "map_at_12_buyers"
    ]
    best, margin = sources.idxmax(), MIN_RATIO_TO_BEST_SOURCE
    checks[f"{shipped} MAP@12 >= {margin} x {best} ({ranker:.4f} vs {sources[best]:.4f})"] = (
        ranker >= margin * sources[best]
    )
    union = recall.loc[recall["source"].isin(["union", "all"]), "recall"]
    if len(union):
        checks[f"candidate union recall >= 60% ({union.iloc[0]:.1%})"] = union.iloc[0] >= 0.6
    checks[f"default kedro run under 600 s ({seconds:.0f} s)"] = seconds < 600


def scale_run(scale: float, checks: dict[str, bool]) -> None:
    """Generator, then data_preparation, at ``scale`` of the real competition."""
    with tempfile.TemporaryDirectory(prefix="recommender-ranking-scale-") as workdir:
        project = copy_project(Path(workdir))
        params = f"data_generation.scale={scale}"
        generation = kedro_run(project, "--pipelines=data_generation", "--params", params)
        preparation = kedro_run(project, "--pipelines=data_preparation")
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


def full_run(scale: float | None, args: argparse.Namespace, checks: dict[str, bool]) -> None:
    """One whole ``kedro run`` (``__default__``: generation included) at ``scale``, watched."""
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="recommender-ranking-full-"))
    project = copy_project(workdir, args.git_ref)
    command = [sys.executable, "-m", "kedro", "run", "--env=local", f"--pipelines={args.pipeline}"]
    params = [f"data_generation.scale={scale}"] if scale is not None else []
    params += args.params
    if params:  # e.g. ranking_sql.test_sample_per_million=100000 (conf/base/globals.yml)
        command += ["--params", ",".join(params)]
    label = f"scale {scale:g}" if scale is not None else "default size"
    label += "".join(f", {param}" for param in args.params)
    print(f"\n{label}, {args.pipeline}, in {project} (log: benchmark_run.log)", flush=True)
    run = run_guarded(
        command, project, project / "benchmark_run.log", args.limit_gb, args.min_available_gb
    )
    nodes = node_table(run)
    nodes.to_csv(project / "benchmark_nodes.csv", index=False)
    status = run_status(run)
    print(f"{label}: {status} after {run.seconds:.0f} s, peak {run.peak_gb:.2f} GB (process tree)")
    if run.returncode and run.stopped is None:
        print(run.log_tail[-3000:])
    per_pipeline = nodes.groupby("pipeline", sort=False).agg(
        seconds=("seconds", "sum"), peak_gb=("peak_gb", "max")
    )
    print(per_pipeline.round(2).to_string())
    print("top memory nodes:")
    top = nodes.sort_values("peak_gb", ascending=False).head(args.top)
    print(top[["node", "pipeline", "seconds", "peak_gb"]].round(2).to_string(index=False))
    print(node_report(run))
    finished = run.returncode == 0
    if scale == 1.0:
        checks[f"scale 1: whole run under 60 min ({run.seconds / 60:.0f} min, {status})"] = (
            finished and run.seconds < 3600
        )
        checks[f"scale 1: peak under 20 GB ({run.peak_gb:.1f} GB)"] = finished and run.peak_gb < 20
    else:
        checks[f"{label}: whole run finished under {args.limit_gb:g} GB ({status})"] = finished


def steps_run(scale: float, args: argparse.Namespace, checks: dict[str, bool]) -> None:
    """Generation, then each Vertex AI step of ``end_to_end`` in its own ``kedro run`` process
    (``--tags=group.<step>``), as Vertex AI runs them: time and peak memory per process. Writes
    ``benchmark_steps.csv`` in the project after each step, so a stopped run keeps its figures."""
    from recommender_ranking.pipeline_registry import VERTEX_AI_STEPS

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="recommender-ranking-steps-"))
    project = copy_project(workdir, args.git_ref)
    base = [sys.executable, "-m", "kedro", "run", "--env=local"]
    params = ",".join([f"data_generation.scale={scale}", *args.params])
    runs = [("data_generation", [*base, "--pipelines=data_generation", "--params", params])]
    runs += [
        (step, [*base, "--pipelines=end_to_end", f"--tags=group.{step}", "--params", params])
        for step in VERTEX_AI_STEPS
    ]
    rows = []
    for step, command in runs:
        if step in args.skip_steps:
            continue
        print(f"\nscale {scale:g}, step {step}, in {project}", flush=True)
        run = run_guarded(
            command,
            project,
            project / f"benchmark_{step}.log",
            args.limit_gb,
            args.min_available_gb,
        )
        status = run_status(run)
        top = node_table(run).sort_values("peak_gb", ascending=False).head(1)
        rows.append(
            {
                "step": step,
                "status": status,
                "seconds": round(run.seconds),
                "peak_gb": round(run.peak_gb, 2),
                "peak_node": top["node"].iloc[0] if len(top) else "",
            }
        )
        pd.DataFrame(rows).to_csv(project / "benchmark_steps.csv", index=False)
        print(f"{step}: {status} after {run.seconds:.0f} s, peak {run.peak_gb:.2f} GB", flush=True)
        if run.returncode:
            print(run.log_tail[-3000:])
            break
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    after = table[table["step"] != "data_generation"]
    finished = len(after) == len(VERTEX_AI_STEPS) and (after["status"] == "finished").all()
    minutes, peak = after["seconds"].sum() / 60, after["peak_gb"].max()
    checks[f"scale {scale:g}: every step after generation in {minutes:.0f} min <= 45"] = (
        finished and minutes <= 45
    )
    checks[f"scale {scale:g}: largest step peak {peak:.1f} GB <= 16"] = finished and peak <= 16


def node_table(run: Measured) -> pd.DataFrame:
    """One row per node: seconds, peak GB and its folder pipeline (the node's namespace)."""
    nodes = pd.DataFrame(run.nodes, columns=["node", "seconds", "peak_gb"])
    nodes["pipeline"] = (
        nodes["node"].str.split(".").str[0].where(nodes["node"].str.contains(".", regex=False))
    )
    return nodes.fillna({"pipeline": "?"})


def run_status(run: Measured) -> str:
    if run.stopped:
        return f"STOPPED: {run.stopped}"
    return "finished" if run.returncode == 0 else f"FAILED (exit {run.returncode})"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=float, nargs="*", default=[0.01, 0.1])
    parser.add_argument("--skip-default", action="store_true", help="only the scale runs")
    parser.add_argument(
        "--full", type=float, nargs="*", default=[], help="scales of whole watched runs"
    )
    parser.add_argument("--pipeline", default="__default__", help="pipeline of --full runs")
    parser.add_argument(
        "--steps", type=float, nargs="*", default=[], help="scales of per-step measured runs"
    )
    parser.add_argument(
        "--skip-steps", nargs="*", default=[], help="steps of --steps runs already done"
    )
    parser.add_argument(
        "--params",
        nargs="*",
        default=[],
        help="key=value parameters of --full runs, e.g. ranking_sql.test_sample_per_million=1e5",
    )
    parser.add_argument("--workdir", help="keep the --full project (and its data) here")
    parser.add_argument("--git-ref", help="copy the project from this commit, not the tree")
    parser.add_argument("--limit-gb", type=float, default=20.0, help="stop a --full run above")
    parser.add_argument(
        "--min-available-gb",
        type=float,
        default=1.0,
        help="stop a --full run when the machine has less memory available (shared machines)",
    )
    parser.add_argument("--top", type=int, default=8, help="top memory nodes to print")
    args = parser.parse_args()
    checks: dict[str, bool] = {}
    if not args.skip_default:
        default_run(checks)
    for scale in args.scales:
        scale_run(scale, checks)
    for scale in args.full:
        full_run(scale, args, checks)
    for scale in args.steps:
        steps_run(scale, args, checks)
    print()
    for description, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {description}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

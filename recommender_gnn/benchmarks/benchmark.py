"""Measure the blueprint against its quality bar: every model as a fraction of the oracle,
runtime, memory, determinism.

    python benchmarks/benchmark.py                 # default size, one run
    python benchmarks/benchmark.py --runs 2        # and check that a second run is identical
    python benchmarks/benchmark.py --scale 10      # 10x sessions and items

Each run is a fresh copy of the project in a temporary folder (``kedro run --env=local``),
so the figures include data generation and never touch this folder's data or registry.
Prints figures and PASS/FAIL per target; exits 1 if any target fails.
"""

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

BLUEPRINT = Path(__file__).resolve().parents[1]
SHOWN = [
    "recall_clicks",
    "mrr_clicks",
    "recall_carts",
    "recall_orders",
    "score",
    "recall_clicks_vs_oracle",
    "mrr_clicks_vs_oracle",
    "score_vs_oracle",
]


def _latest(dataset_folder: Path) -> Path:
    return sorted(dataset_folder.iterdir())[-1] / dataset_folder.name


def run_once(workdir: Path, extra_params: list[str]) -> dict:
    project = workdir / "recommender_gnn"
    for name in ("pyproject.toml", "requirements.lock", "conf", "src"):
        source = BLUEPRINT / name
        if source.is_dir():
            shutil.copytree(
                source, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            project.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / name)
    command = [sys.executable, "-m", "kedro", "run", "--env=local"]
    if extra_params:
        command += ["--params", ",".join(extra_params)]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=project, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"kedro run failed:\n{completed.stderr[-5000:]}")
    reporting = project / "data" / "08_reporting"
    raw = project / "data" / "01_raw" / "parquet"
    return {
        "seconds": seconds,
        "metrics_csv": _latest(reporting / "evaluation_metrics.csv").read_bytes(),
        "metrics": pd.read_csv(_latest(reporting / "evaluation_metrics.csv")).set_index("model"),
        "by_length": pd.read_csv(_latest(reporting / "evaluation_by_session_length.csv")),
        "events": len(pd.read_parquet(raw / "train.parquet")),
        "test_sessions": pd.read_parquet(raw / "test.parquet")["session"].nunique(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="data_generation.otto.scale")
    parser.add_argument("--runs", type=int, default=1, help="identical runs (determinism check)")
    args = parser.parse_args()
    params = [] if args.scale == 1.0 else [f"data_generation.otto.scale={args.scale}"]

    results = []
    for index in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="recommender-gnn-benchmark-") as workdir:
            results.append(run_once(Path(workdir), params))
            print(f"run {index + 1}: {results[-1]['seconds']:.1f} s")
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2

    first = results[0]
    metrics = first["metrics"]
    print(
        f"\nscale {args.scale}: {first['events']:,} training events, "
        f"{first['test_sessions']:,} test sessions; peak memory {peak_gb:.2f} GB"
    )
    print(metrics[SHOWN].round(4).to_string())
    print("\nOTTO score by events in the session prefix:")
    print(first["by_length"].pivot_table(index="model", columns="length", values="score").round(4))
    covisitation, popularity = metrics.loc["covisitation"], metrics.loc["popularity"]
    checks = {
        f"co-visitation score >= popularity + 0.2 ({covisitation['score']:.4f} vs "
        f"{popularity['score']:.4f})": covisitation["score"] >= popularity["score"] + 0.2,
        "oracle has the best next-click MRR": metrics["mrr_clicks"].idxmax() == "oracle",
        "oracle has the best OTTO score": metrics["score"].idxmax() == "oracle",
    }
    if "gnn" in metrics.index:
        gnn = metrics.loc["gnn"]
        checks[
            f"GNN next-click MRR >= co-visitation's ({gnn['mrr_clicks']:.4f} vs "
            f"{covisitation['mrr_clicks']:.4f})"
        ] = gnn["mrr_clicks"] >= covisitation["mrr_clicks"]
    if "blend" in metrics.index:
        blend = metrics.loc["blend"]
        checks[
            f"blend score >= co-visitation - 0.005 ({blend['score']:.4f} vs "
            f"{covisitation['score']:.4f})"
        ] = blend["score"] >= covisitation["score"] - 0.005
    if args.scale == 1.0:
        checks[f"kedro run under 600 s ({first['seconds']:.1f} s)"] = first["seconds"] < 600
    if args.runs > 1:
        checks["same seed, same metrics bit for bit"] = all(
            r["metrics_csv"] == first["metrics_csv"] for r in results
        )
    print()
    for description, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {description}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

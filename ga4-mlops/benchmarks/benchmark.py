"""Measure the blueprint against its quality bar: model quality, runtime, memory, determinism.

    python benchmarks/benchmark.py                # default size, two runs (determinism)
                                                  # + one beside a CPU-burning process
    python benchmarks/benchmark.py --scale 3.6    # the public GA4 sample's event count (4.3 M)
    python benchmarks/benchmark.py --busy-runs 0  # quiet runs only

Each run is a fresh copy of the project in a temporary folder (``kedro run --env=local``),
so the figures include data generation and never touch this folder's data or registry.
The busy run shares the machine with one process that burns a CPU core, as a laptop, a CI
runner or a shared VM does: with OpenMP's default spinning wait, LightGBM's and scikit-learn's
OpenMP runtimes then slow each other several times over (``settings.py``). Its metrics must
equal the quiet runs'. Prints figures and PASS/FAIL per target; exits 1 if any target fails.
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
import pyarrow.parquet as pq

BLUEPRINT = Path(__file__).resolve().parents[1]


def run_once(workdir: Path, extra_params: list[str]) -> dict:
    project = workdir / "ga4-mlops"
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
    return {
        "seconds": seconds,
        "metrics_csv": _latest(reporting / "evaluation_metrics.csv").read_bytes(),
        "metrics": pd.read_csv(_latest(reporting / "evaluation_metrics.csv")).set_index("model"),
        "oracle": pd.read_csv(_latest(reporting / "oracle_benchmark.csv")).set_index("model"),
        "events": sum(
            pq.read_metadata(path).num_rows
            for path in (project / "data" / "01_raw" / "ga4_events").glob("*.parquet")
        ),
        "users": len(pd.read_parquet(project / "data" / "01_raw" / "ga4_user_truth.parquet")),
    }


BURN_CPU = "while True: pass"


def run_busy(workdir: Path, extra_params: list[str]) -> dict:
    """One run beside a process that keeps one CPU core busy the whole time."""
    burner = subprocess.Popen([sys.executable, "-c", BURN_CPU])
    try:
        return run_once(workdir, extra_params)
    finally:
        burner.kill()
        burner.wait()


def _latest(dataset_folder: Path) -> Path:
    return sorted(dataset_folder.iterdir())[-1] / dataset_folder.name


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="data_generation.scale")
    parser.add_argument("--runs", type=int, default=2, help="identical runs (determinism check)")
    parser.add_argument(
        "--busy-runs", type=int, default=1, help="runs beside a CPU-burning process"
    )
    args = parser.parse_args()
    params = [] if args.scale == 1.0 else [f"data_generation.scale={args.scale}"]

    results = []
    for index in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="ga4-mlops-benchmark-") as workdir:
            results.append(run_once(Path(workdir), params))
            print(f"run {index + 1}: {results[-1]['seconds']:.1f} s")
    busy = []
    for index in range(args.busy_runs):
        with tempfile.TemporaryDirectory(prefix="ga4-mlops-benchmark-") as workdir:
            busy.append(run_busy(Path(workdir), params))
            seconds = busy[-1]["seconds"]
            print(f"busy run {index + 1} (beside a CPU-burning process): {seconds:.1f} s")
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2

    first = results[0]
    metrics, oracle = first["metrics"], first["oracle"]
    calibrated, baseline = metrics.loc["model_calibrated"], metrics.loc["baseline"]
    oracle_auc = oracle.loc["oracle", "roc_auc"]
    print(f"\nscale {args.scale}: {first['users']:,} users, {first['events']:,} events")
    print(oracle[["roc_auc", "pr_auc", "log_loss", "brier", "ece"]].round(4).to_string())
    limit_seconds, limit_gb = (120, None) if args.scale == 1.0 else (600, 8.0)
    auc, baseline_auc = calibrated["roc_auc"], baseline["roc_auc"]
    checks = {
        f"calibrated ROC-AUC within 0.03 of oracle ({auc:.4f} vs {oracle_auc:.4f})": (
            oracle_auc - auc <= 0.03
        ),
        f"calibrated ROC-AUC >= baseline + 0.03 ({auc:.4f} vs {baseline_auc:.4f})": (
            auc - baseline_auc >= 0.03
        ),
        f"calibrated ECE < 0.02 ({calibrated['ece']:.4f})": calibrated["ece"] < 0.02,
        f"kedro run under {limit_seconds} s ({first['seconds']:.1f} s)": first["seconds"]
        < limit_seconds,
    }
    if limit_gb:
        checks[f"peak memory under {limit_gb} GB ({peak_gb:.2f} GB)"] = peak_gb < limit_gb
    else:
        print(f"peak memory {peak_gb:.2f} GB")
    if args.runs > 1:
        checks["same seed, same metrics bit for bit"] = all(
            r["metrics_csv"] == first["metrics_csv"] for r in results
        )
    for index, run in enumerate(busy, start=1):
        checks[f"busy run {index}: same metrics as the quiet run ({run['seconds']:.1f} s)"] = (
            run["metrics_csv"] == first["metrics_csv"]
        )
    print()
    for description, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {description}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Every model against the others on validation (where choices are made, with intervals), the
test week only reported; runtime and per-node peak memory; determinism.

    python benchmarks/benchmark.py                          # default data, seed 42
    python benchmarks/benchmark.py --seeds 1 2 3            # three generator seeds
    python benchmarks/benchmark.py --setting cooccurrence   # a co-occurrence-heavy shop
    python benchmarks/benchmark.py --setting no_refit       # test week without the refit
    python benchmarks/benchmark.py --runs 2                 # and a second, identical run
    python benchmarks/benchmark.py --params data_generation.otto.revisit_share=0.0
    python benchmarks/benchmark.py --raw DIR --setting otto_size  # kept OTTO-size files

``--raw DIR`` links the OTTO files in DIR (train.jsonl, test.jsonl, test_labels.jsonl and the
generator's oracle_next_items.parquet) into the copy's data/01_raw and runs ``end_to_end``, the
path of real files: generation is not timed (at OTTO's size it takes 51 minutes).

Each run is a fresh copy of the project in a temporary folder (``kedro run --env=local``), so
the figures include data generation and never touch this folder's data or registry. Per-node
seconds and peak memory come from the process that ran the node (src/recommender_gnn/hooks.py).
Results are appended to ``--out`` (a JSON-lines file) as each run ends. Pass/fail targets read
validation only; exits 1 if any fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

BLUEPRINT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "default": [],
    # Most new-item draws from the session's bundles (order-free), few along directed successors.
    "cooccurrence": [
        "data_generation.otto.sequential_share=0.1",
        "data_generation.otto.cooccurrence_share=0.7",
        "data_generation.otto.jump_share=0.2",
    ],
    "no_revisits": ["data_generation.otto.revisit_share=0.0"],
    # The test week predicted by the models fit before the validation week: what refit brings.
    "no_refit": ["data_preparation.refit=false"],
    # OTTO's size on this machine's 2 CPU cores (README, "OTTO's size"): a validation sample,
    # the GNN trained within a time budget on the most recent sessions, scoring the most
    # frequent items (the Vertex AI GPU step scores them all).
    "otto_size": [
        "data_preparation.max_valid_sessions=200000",
        "model_training.time_budget_seconds=60",
        "model_training.max_train_sessions=300000",
        "model_training.max_pairs_per_epoch=400000",
        "model_training.candidate_items=50000",
        "gnn_inference.candidate_items=50000",
        "gnn_inference.num_threads=2",
        "processes=2",
        "model_selection.test_week_models=submitted",
    ],
}
RAW_FILES = ("train.jsonl", "test.jsonl", "test_labels.jsonl", "oracle_next_items.parquet")
BASELINES = ["popularity", "covisitation", "transitions", "sknn"]
SHOWN = ["score", "score_ci_low", "score_ci_high", "recall_clicks", "recall_carts", "recall_orders"]


def _latest(dataset_folder: Path) -> Path:
    return sorted(dataset_folder.iterdir())[-1] / dataset_folder.name


def run_once(workdir: Path, params: list[str], raw: Path | None = None) -> dict:
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
    if raw is not None:
        (project / "data" / "01_raw").mkdir(parents=True)
        for name in RAW_FILES:
            (project / "data" / "01_raw" / name).symlink_to((raw / name).resolve())
        command.append("--pipelines=end_to_end")
    if params:
        command += ["--params", ",".join(params)]
    profile = workdir / "nodes.csv"
    env = {**os.environ, "RECOMMENDER_GNN_NODE_PROFILE": str(profile)}
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"kedro run failed:\n{completed.stderr[-5000:]}")
    reporting = project / "data" / "08_reporting"
    nodes = pd.read_csv(profile)
    return {
        "seconds": seconds,
        "peak_gb": float(nodes["peak_gb"].max()),
        "peak_node": str(nodes.loc[nodes["peak_gb"].idxmax(), "node"]),
        "validation": pd.read_csv(_latest(reporting / "validation_metrics.csv")),
        "test": pd.read_csv(_latest(reporting / "evaluation_metrics.csv")),
        "decision": json.loads(_latest(reporting / "submission_decision.json").read_text()),
        "metrics_csv": _latest(reporting / "evaluation_metrics.csv").read_bytes(),
        "nodes": nodes.to_dict("records"),
    }


def checks_of(validation: pd.DataFrame) -> dict[str, bool]:
    """The targets, on validation: the GNN beats every tuned baseline, the blend every model."""
    table = validation.set_index("model")
    best_baseline = table.loc[BASELINES, "score"].idxmax()
    singles = table.loc[[*BASELINES, "gnn"], "score"]
    gnn, blend = table.loc["gnn"], table.loc["blend"]
    return {
        f"GNN beats the strongest baseline ({best_baseline}) on validation, interval of the "
        f"difference above 0 ({gnn['score_diff_ci_low']:.4f})": gnn["score_diff_ci_low"] > 0,
        f"blend >= best single model on validation ({blend['score']:.4f} vs "
        f"{singles.max():.4f}, {singles.idxmax()})": blend["score"] >= singles.max(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[42], help="generator seeds")
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="default")
    parser.add_argument("--params", nargs="*", default=[], help="extra key=value run params")
    parser.add_argument("--runs", type=int, default=1, help="identical runs (determinism check)")
    parser.add_argument("--out", type=Path, default=None, help="append results (JSON lines)")
    parser.add_argument("--raw", type=Path, default=None, help="OTTO files to run end_to_end on")
    args = parser.parse_args()

    checks = {}
    for seed in args.seeds:
        params = [f"seed={seed}", *SETTINGS[args.setting], *args.params]
        results = []
        for index in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="recommender-gnn-benchmark-") as workdir:
                results.append(run_once(Path(workdir), params, args.raw))
            last = results[-1]
            print(f"seed {seed} run {index + 1}: {last['seconds']:.1f} s, "
                  f"peak {last['peak_gb']:.2f} GB ({last['peak_node']})")  # fmt: skip
        first = results[0]
        print(f"\nvalidation (seed {seed}, {args.setting}):")
        print(first["validation"].set_index("model")[SHOWN].round(4).to_string())
        print(f"test (seed {seed}), reported only:")
        print(first["test"].set_index("model")[SHOWN].round(4).to_string())
        print(f"submitted: {first['decision']['submitted_model']}\n")
        checks.update({f"seed {seed}: {k}": v for k, v in checks_of(first["validation"]).items()})
        if args.runs > 1:
            checks[f"seed {seed}: same seed, same metrics bit for bit"] = all(
                r["metrics_csv"] == first["metrics_csv"] for r in results
            )
        if args.out:
            with args.out.open("a") as out:
                record = {
                    "seed": seed, "setting": args.setting, "params": params,
                    "raw": str(args.raw) if args.raw else None,
                    "seconds": first["seconds"], "peak_gb": first["peak_gb"],
                    "validation": first["validation"].to_dict("records"),
                    "test": first["test"].to_dict("records"), "decision": first["decision"],
                    "nodes": first["nodes"],
                }  # fmt: skip
                out.write(json.dumps(record) + "\n")
    for description, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {description}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""SR-GNN training throughput, time per epoch and peak memory, and a full-OTTO projection.

Run alone (``.venv/bin/python benchmarks/gnn_throughput.py``) or call ``measure_training``
from benchmarks/benchmark.py. Each size runs in its own process so its peak memory (max RSS)
is its own. Sessions come from the project's generator (data_generation), scaled so the
events match the target (default size, and 1% of OTTO: ~2.2 M events).

The full-OTTO projection is arithmetic, stated in the output: OTTO's training pairs
(217 M events - 12.9 M sessions = 204 M prefix -> next pairs per epoch) divided by the measured
pairs per second gives the CPU time per epoch; a GPU time needs a speed-up factor that cannot
be measured here (no GPU): ``--gpu-speedup`` (default 20, an assumption) divides it.
"""

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

BLUEPRINT = Path(__file__).resolve().parents[1]
OTTO_EVENTS, OTTO_SESSIONS, OTTO_ITEMS = 216_716_096, 12_899_779, 1_855_603


def _params(name: str) -> dict:
    with open(BLUEPRINT / f"conf/base/parameters_{name}.yml") as file:
        return yaml.safe_load(file)[name]


def generated_split(scale: float, seed: int = 42) -> tuple[pd.DataFrame, ...]:
    """(train sessions, valid prefixes, valid labels, item map) from the project's generator."""
    from recommender_gnn.pipelines.data_generation.nodes import generate_otto_sessions

    # One chunk: the generator's last chunk can hold no test session at some scales.
    params = {**_params("data_generation")["otto"], "scale": scale, "chunk_sessions": 10**9}
    chunks = list(generate_otto_sessions(params, seed))
    train = pd.concat([chunk[0] for chunk in chunks], ignore_index=True)
    prefix = pd.concat([chunk[1] for chunk in chunks], ignore_index=True)
    labels = pd.concat([chunk[2] for chunk in chunks], ignore_index=True)
    aids = pd.Index(np.unique(np.concatenate([train["aid"], prefix["aid"], labels["aid"]])))
    to_item = {"item": lambda frame: aids.get_indexer(frame["aid"])}
    keep = prefix["session"].drop_duplicates().head(2000)  # validation cost stays small
    return (
        train.assign(**to_item).drop(columns="aid"),
        prefix[prefix["session"].isin(keep)].assign(**to_item).drop(columns="aid"),
        labels[labels["session"].isin(keep)].assign(**to_item).drop(columns="aid"),
        pd.DataFrame({"item": np.arange(aids.size), "aid": aids.to_numpy()}),
    )


def measure_training(scale: float, max_pairs: int | None = None, **overrides) -> dict:
    """One epoch of the default model on generated data at ``scale`` (in this process)."""
    sys.path.insert(0, str(BLUEPRINT / "src"))
    from recommender_gnn.pipelines.model_training.nodes import train_session_gnn

    started = time.perf_counter()
    train, valid, labels, item_map = generated_split(scale)
    generated = time.perf_counter() - started
    params = {**_params("model_training"), "seed": 42, "progress_bar": False, "max_epochs": 1}
    params.update(max_pairs_per_epoch=max_pairs, **overrides)
    checkpoint, history = train_session_gnn(train, valid, labels, item_map, params)
    epoch = history.iloc[0]
    n_pairs = checkpoint["n_training_pairs"]
    return {
        "scale": scale,
        "train_events": len(train),
        "train_sessions": int(train["session"].nunique()),
        "items": len(item_map),
        "pairs_per_epoch": n_pairs,
        "pairs_measured": int(min(n_pairs, max_pairs or n_pairs)),
        "pairs_per_second": float(epoch["pairs_per_second"]),
        "sessions_per_second": float(epoch["pairs_per_second"])
        * train["session"].nunique()
        / n_pairs,
        "seconds_per_epoch": n_pairs / float(epoch["pairs_per_second"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "generation_seconds": generated,
        "torch_threads": params["num_threads"],
    }


def _run(queue, scale, max_pairs, overrides):
    queue.put(measure_training(scale, max_pairs, **overrides))


def measure_in_subprocess(scale: float, max_pairs: int | None = None, **overrides) -> dict:
    """``measure_training`` in a fresh process, so peak memory belongs to this size alone."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_run, args=(queue, scale, max_pairs, overrides))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"measuring scale {scale} failed (exit code {process.exitcode})")
    return queue.get()


def otto_projection(measured: dict, gpu_speedup: float) -> dict:
    """Full-OTTO epoch time from a measured throughput (see the module docstring)."""
    pairs = OTTO_EVENTS - OTTO_SESSIONS
    cpu_hours = pairs / measured["pairs_per_second"] / 3600
    return {
        "otto_pairs_per_epoch": pairs,
        "cpu_hours_per_epoch": cpu_hours,
        "gpu_hours_per_epoch_assumed": cpu_hours / gpu_speedup,
        "gpu_speedup_assumed": gpu_speedup,
        # Item table + Adam moments + 3 per-head best copies (float32), at OTTO's item count.
        "otto_embedding_memory_gb": OTTO_ITEMS * measured["embedding_dim"] * 4 * 6 / 1e9,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--one-percent-scale", type=float, default=28.0, help="generator scale: ~2.2 M events"
    )
    parser.add_argument(
        "--max-pairs", type=int, default=200_000, help="pairs timed at the 1%% size"
    )
    parser.add_argument("--gpu-speedup", type=float, default=20.0)
    args = parser.parse_args()
    rows = [
        measure_in_subprocess(1.0),
        measure_in_subprocess(args.one_percent_scale, args.max_pairs),
    ]
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(2).to_string(index=False))
    largest = {**rows[-1], "embedding_dim": _params("model_training")["embedding_dim"]}
    for key, value in otto_projection(largest, args.gpu_speedup).items():
        print(f"{key}: {value:,.2f}" if isinstance(value, float) else f"{key}: {value:,}")


if __name__ == "__main__":
    main()

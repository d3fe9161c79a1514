"""SR-GNN training throughput and memory, sampled vs full softmax quality, an OTTO projection.

Every measurement trains in its own spawned process that reads the split from Parquet, and its
peak memory is that process's own VmHWM (/proc/self/status): a fresh exec'd process has its
own high-water mark, unlike ``ru_maxrss`` of a child, which on Linux can carry the parent's.

- ``python benchmarks/gnn_throughput.py``: one epoch at the default size and a capped epoch at
  1% of OTTO (generator ``scale`` 28), then the full-OTTO projection (arithmetic, stated:
  OTTO's 204 M pairs per epoch divided by the measured pairs per second; a GPU time needs a
  speed-up factor that cannot be measured here, ``--gpu-speedup``, an assumption).
- ``python benchmarks/gnn_throughput.py --compare-softmax DIR``: full softmax against in-batch +
  popularity negatives with log-Q correction on the canonical tables in ``DIR``
  (``data/02_intermediate`` of a run, e.g. generator ``scale`` 25: about 50 k items), the same
  pairs and epochs for both; Recall@20 per type of the new-item candidates on validation.
- ``python benchmarks/gnn_throughput.py --compare-heads DIR``: per-type heads (a carts and an
  orders session vector, trained on later carts and orders) against the same network's clicks
  vector for every type, and against the default (one vector, trained on next clicks), on the
  validation split in ``DIR``, each scored under its best seen-item policy as in tuning.
"""

import argparse
import multiprocessing
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

BLUEPRINT = Path(__file__).resolve().parents[1]
OTTO_EVENTS, OTTO_SESSIONS, OTTO_ITEMS = 216_716_096, 12_899_779, 1_855_603
SPLIT_NAMES = ("train_sessions", "valid_sessions", "valid_labels", "item_map")


def _params(name: str) -> dict:
    with open(BLUEPRINT / f"conf/base/parameters_{name}.yml") as file:
        return yaml.safe_load(file)[name]


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


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
    return (
        train.assign(**to_item).drop(columns="aid").sort_values(["session", "ts"]),
        prefix.assign(**to_item).drop(columns="aid").sort_values(["session", "ts"]),
        labels.assign(**to_item).drop(columns="aid"),
        pd.DataFrame({"item": np.arange(aids.size), "aid": aids.to_numpy()}),
    )


def _read_split(data_dir: str, max_valid_sessions: int) -> tuple[pd.DataFrame, ...]:
    train, valid, labels, item_map = (
        pd.read_parquet(Path(data_dir) / f"{name}.parquet") for name in SPLIT_NAMES
    )
    keep = valid["session"].drop_duplicates().head(max_valid_sessions)  # validation stays cheap
    return train, valid[valid["session"].isin(keep)], labels[labels["session"].isin(keep)], item_map


def measure_training(data_dir: str, max_valid_sessions: int = 2000, **overrides) -> dict:
    """Train the default model with ``overrides`` on the split in ``data_dir`` (this process)."""
    sys.path.insert(0, str(BLUEPRINT / "src"))
    from recommender_gnn.models.session_gnn.training import fit_gnn

    train, valid, labels, item_map = _read_split(data_dir, max_valid_sessions)
    params = {**_params("model_training"), "seed": 42, "progress_bar": False, "max_epochs": 1}
    params.update(overrides)
    checkpoint, history = fit_gnn(train, item_map, params, valid, labels)
    pairs, seconds = history["pairs"].sum(), history["seconds"].sum()
    return {
        "train_events": len(train),
        "train_sessions": int(train["session"].nunique()),
        "items": len(item_map),
        "softmax": "sampled" if len(item_map) > params["sampled_softmax"]["above_n_items"]
        else "full",
        "epochs": len(history),
        "pairs_per_epoch": checkpoint["n_training_pairs"],
        "pairs_trained": int(pairs),
        "pairs_per_second": pairs / seconds,
        "seconds_per_epoch": checkpoint["n_training_pairs"] * seconds / pairs,
        "validation_seconds_per_epoch": history["validation_seconds"].mean(),
        **{f"recall_{k}": v for k, v in checkpoint["best_valid_recall"].items()},
        "score": checkpoint["best_valid_score"],
        "peak_mb": _peak_mb(),
        "torch_threads": params["num_threads"],
    }  # fmt: skip


def _run(queue, data_dir, max_valid_sessions, overrides):
    queue.put(measure_training(data_dir, max_valid_sessions, **overrides))


def in_subprocess(data_dir: str, max_valid_sessions: int = 2000, **overrides) -> dict:
    """``measure_training`` in a fresh spawned process: its VmHWM is the training's alone."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_run, args=(queue, data_dir, max_valid_sessions, overrides))
    process.start()
    result = queue.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"measuring {overrides} failed (exit code {process.exitcode})")
    return result


def measure_generated(scale: float, **overrides) -> dict:
    """Generate here, write Parquet, measure in a fresh process."""
    with tempfile.TemporaryDirectory() as data_dir:
        for name, frame in zip(SPLIT_NAMES, generated_split(scale), strict=True):
            frame.to_parquet(Path(data_dir) / f"{name}.parquet")
        return {"scale": scale, **in_subprocess(data_dir, **overrides)}


def compare_softmax(
    data_dir: str, epochs: int, max_pairs: int | None, n_negatives: int, valid_sessions: int
) -> list:
    """Full vs sampled softmax on the same data, pairs and epochs (each in its own process)."""
    common = {"max_epochs": epochs, "max_pairs_per_epoch": max_pairs,
              "early_stopping": {"patience": epochs, "min_delta": 0.0}}  # fmt: skip
    variants = {
        "full softmax": 10**9,
        f"in-batch + {n_negatives} popularity negatives, log-Q": 0,
    }
    return [
        {"variant": name, **in_subprocess(data_dir, valid_sessions, **common,
         sampled_softmax={"above_n_items": above, "n_negatives": n_negatives})}
        for name, above in variants.items()
    ]  # fmt: skip


def compare_heads(data_dir: str, valid_sessions: int) -> list:
    """Validation recall (under the seen-item policy) of per-type heads, of the same network's
    clicks vector for every type, and of the default single vector (the module docstring)."""
    sys.path.insert(0, str(BLUEPRINT / "src"))
    from recommender_gnn.model_selection.policy import policy_scores
    from recommender_gnn.models.session_gnn.recommend import recommend_gnn
    from recommender_gnn.models.session_gnn.training import fit_gnn
    from recommender_gnn.pipelines.baselines.popularity import fit_popularity

    train, valid, labels, item_map = _read_split(data_dir, valid_sessions)
    popular = fit_popularity(train, _params("baselines")["popularity"])
    seen_items = _params("model_selection")["seen_items"]

    def score(candidates, sessions, labels_):
        return policy_scores(candidates, sessions, labels_, popular, seen_items)

    def trained(**overrides) -> pd.DataFrame:
        params = {**_params("model_training"), "seed": 42, "progress_bar": False, **overrides}
        checkpoint, _ = fit_gnn(train, item_map, params, valid, labels, score)
        return recommend_gnn(valid, checkpoint, {"device": "cpu"})

    every_type = {"clicks": 1.0, "carts": 1.0, "orders": 1.0}
    heads = trained(per_type_heads=True, type_weights=every_type)
    clicks = heads[heads["event_type"] == "clicks"]
    types = ["clicks", "carts", "orders"]
    clicks_for_all = pd.concat(
        [clicks.assign(event_type=pd.Categorical([name] * len(clicks), categories=types))
         for name in types],
        ignore_index=True,
    ).sort_values(["session", "event_type", "rank"], kind="stable")  # fmt: skip
    variants = {
        "per-type heads (trained on clicks, carts, orders)": heads,
        "the same network's clicks vector for every type": clicks_for_all,
        "default: one vector, trained on next clicks": trained(),
    }
    rows = []
    for name, candidates in variants.items():
        result = score(candidates, valid, labels)
        rows.append({"variant": name, **{k: v for k, v in result.items() if k != "policy"}})
    return rows


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
    parser.add_argument("--one-percent-scale", type=float, default=28.0)
    parser.add_argument("--max-pairs", type=int, default=200_000, help="pairs per epoch timed")
    parser.add_argument("--gpu-speedup", type=float, default=20.0)
    parser.add_argument("--compare-softmax", metavar="DIR", help="canonical tables to compare on")
    parser.add_argument("--compare-heads", metavar="DIR", help="canonical tables to compare on")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--valid-sessions", type=int, default=5000)
    parser.add_argument("--n-negatives", type=int, default=_params("model_training")[
        "sampled_softmax"]["n_negatives"])  # fmt: skip
    args = parser.parse_args()
    if args.compare_heads:
        rows = compare_heads(args.compare_heads, args.valid_sessions)
    elif args.compare_softmax:
        rows = compare_softmax(
            args.compare_softmax, args.epochs, args.max_pairs, args.n_negatives, args.valid_sessions
        )
    else:
        one_percent = measure_generated(args.one_percent_scale, max_pairs_per_epoch=args.max_pairs)
        rows = [measure_generated(1.0), one_percent]
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(pd.DataFrame(rows).round(4).to_string(index=False))
    if not (args.compare_softmax or args.compare_heads):
        largest = {**rows[-1], "embedding_dim": _params("model_training")["embedding_dim"]}
        for key, value in otto_projection(largest, args.gpu_speedup).items():
            print(f"{key}: {value:,.2f}" if isinstance(value, float) else f"{key}: {value:,}")


if __name__ == "__main__":
    main()

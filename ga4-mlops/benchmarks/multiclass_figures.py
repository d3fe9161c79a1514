"""The multiclass README figures that the pipeline's reports do not hold, from a finished
``kedro run --env=multiclass``: the log-loss gain of the model over the baseline with a 95%
paired bootstrap interval over users, and, among buyers only, how often each model (and the
generator's oracle) ranks the bought category first and in its top 3.

    kedro run --env=multiclass
    python benchmarks/multiclass_figures.py            # reads data/multiclass
    python benchmarks/multiclass_figures.py --data data/multiclass --resamples 2000
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from ga4_mlops.problem_types import class_labels, class_score_columns  # noqa: E402


def latest(path: Path) -> Path:
    """A versioned dataset's newest file, or the plain file."""
    return sorted(path.glob(f"*/{path.name}"))[-1] if path.is_dir() else path


def row_log_loss(probabilities: np.ndarray, codes: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(probabilities[np.arange(codes.size), codes], 1e-15, 1.0))


def hit_rate_among_buyers(probabilities: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Per buyer: whether the bought category is in the top k categories (no-purchase class,
    column 0, left out)."""
    categories = probabilities[:, 1:]
    top = np.argsort(-categories, axis=1, kind="stable")[:, :k] + 1
    return (top == codes[:, None]).any(axis=1)


def bootstrap_interval(values: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = [values[rng.integers(0, values.size, values.size)].mean() for _ in range(resamples)]
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=PROJECT / "data" / "multiclass")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from kedro.config import OmegaConfigLoader

    from ga4_mlops.settings import CONFIG_LOADER_ARGS

    config = OmegaConfigLoader(str(PROJECT / "conf"), env="multiclass", **CONFIG_LOADER_ARGS)
    columns = config["parameters"]["model_input"]["columns"]
    classes = class_labels(columns)
    predictions = pd.read_parquet(
        latest(args.data / "07_model_output" / "test_predictions.parquet")
    )
    truth = pd.read_parquet(args.data / "01_raw" / "ga4_user_truth.parquet")
    codes = pd.Categorical(predictions[columns["target"]], categories=classes).codes
    scores = {
        role: predictions[class_score_columns(role, columns)].to_numpy(dtype="float64")
        for role in ("baseline", "raw")
    }
    gain = row_log_loss(scores["baseline"], codes) - row_log_loss(scores["raw"], codes)
    low, high = bootstrap_interval(gain, args.resamples, args.seed)
    print(f"test rows {codes.size}, buyers {(codes > 0).sum()}")
    interval = f"95% paired bootstrap {low:.4f} to {high:.4f}"
    print(f"log loss, baseline - model: {gain.mean():.4f} ({interval})")

    buyers = codes > 0
    truth = truth.set_index("user_pseudo_id")
    shares = truth.loc[
        predictions.loc[buyers, "user_pseudo_id"], class_score_columns("category", columns)[1:]
    ]
    oracle = np.column_stack([np.zeros(buyers.sum()), shares.to_numpy(dtype="float64")])
    ranked = {"oracle": oracle, **{role: scores[role][buyers] for role in scores}}
    for name, probabilities in ranked.items():
        for k in (1, 3):
            hits = hit_rate_among_buyers(probabilities, codes[buyers], k)
            low, high = bootstrap_interval(hits.astype(float), args.resamples, args.seed)
            interval = f"{low:.3f} to {high:.3f}"
            print(f"{name:>8} top-{k} category among buyers: {hits.mean():.3f} ({interval})")


if __name__ == "__main__":
    main()

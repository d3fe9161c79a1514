"""Run the baselines' SQL through the real DuckDBQueryDataset, and random session tables."""

from pathlib import Path

import numpy as np
import pandas as pd

from recommender_gnn.datasets.duckdb_query_dataset import DuckDBQueryDataset
from tests.kedro_cli import BLUEPRINT

SQL = BLUEPRINT / "src" / "recommender_gnn" / "sql"


def random_sessions(seed: int = 0, n_sessions: int = 150, n_items: int = 25) -> pd.DataFrame:
    """Sessions of 1-11 events over ten days; some pairs fall outside an hour's window."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 12, n_sessions)
    session = np.repeat(np.arange(n_sessions), lengths)
    start = np.repeat(rng.integers(0, 10 * 86_400, n_sessions), lengths)
    ts = start + rng.integers(0, 7200, len(session))
    return pd.DataFrame(
        {
            "session": session,
            "item": rng.integers(0, n_items, len(session)),
            "ts": ts,
            "type": rng.choice(3, len(session), p=[0.6, 0.3, 0.1]).astype("int8"),
        }
    ).sort_values(["session", "ts"], ignore_index=True)


def run_query(tmp_path: Path, name: str, sessions: pd.DataFrame, parameters: dict, **options):
    path = tmp_path / f"{name}_sessions.parquet"
    sessions.to_parquet(path, index=False)
    dataset = DuckDBQueryDataset(
        filepath=str(SQL / f"{name}.sql"),
        tables={"sessions": str(path)},
        query_parameters=parameters,
        **options,
    )
    return dataset.load()


def ranked(totals: pd.DataFrame, key: str, other: str, top_k: int) -> pd.DataFrame:
    """Top ``top_k`` rows per ``key`` by weight (ties: smaller ``other``), with ``rank``."""
    totals = totals.sort_values([key, "weight", other], ascending=[True, False, True])
    totals = totals.assign(rank=totals.groupby(key).cumcount() + 1)
    return totals[totals["rank"] <= top_k].reset_index(drop=True)


def sorted_result(result: pd.DataFrame, key: str = "item") -> pd.DataFrame:
    return result.sort_values([key, "rank"]).reset_index(drop=True)

"""src/recommender_gnn/sql/covisitation_counts.sql, run by DuckDB, against pandas."""

import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError

from recommender_gnn.datasets.duckdb_query_dataset import DuckDBQueryDataset
from tests.conftest import BLUEPRINT

SQL = BLUEPRINT / "src" / "recommender_gnn" / "sql" / "covisitation_counts.sql"
PARAMETERS = {
    "max_events_per_session": 6,
    "window_seconds": 3600,
    "click_weight": 1.0,
    "cart_weight": 6.0,
    "order_weight": 3.0,
    "time_weight": 3.0,
    "top_k": 5,
}


def random_sessions(seed: int = 0, n_sessions: int = 150, n_items: int = 25) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 12, n_sessions)
    session = np.repeat(np.arange(n_sessions), lengths)
    start = np.repeat(rng.integers(0, 10 * 86_400, n_sessions), lengths)
    ts = start + rng.integers(0, 7200, len(session))  # some pairs fall outside the window
    return pd.DataFrame(
        {
            "session": session,
            "item": rng.integers(0, n_items, len(session)),
            "ts": ts,
            "type": rng.choice(3, len(session), p=[0.8, 0.15, 0.05]).astype("int8"),
        }
    ).sort_values(["session", "ts"], ignore_index=True)


def pandas_covisitation(sessions: pd.DataFrame, p: dict) -> pd.DataFrame:
    """The same definition written independently in pandas."""
    ordered = sessions.sort_values(
        ["session", "ts", "item", "type"], ascending=[True, False, True, True]
    )
    recent = ordered.groupby("session").head(p["max_events_per_session"])
    first, last = recent["ts"].min(), recent["ts"].max()
    pairs = recent.merge(recent, on="session")
    pairs = pairs[
        (pairs["item_x"] != pairs["item_y"])
        & ((pairs["ts_x"] - pairs["ts_y"]).abs() < p["window_seconds"])
    ]
    type_weight = np.array([p["click_weight"], p["cart_weight"], p["order_weight"]])
    pairs = pairs.assign(
        weight=type_weight[pairs["type_y"].to_numpy()]
        * (1 + p["time_weight"] * (pairs["ts_y"] - first) / (last - first))
    )
    per_session = pairs.groupby(["item_x", "item_y", "session"], as_index=False)["weight"].max()
    totals = per_session.groupby(["item_x", "item_y"], as_index=False)["weight"].sum()
    totals["weight"] = totals["weight"].round(6)
    totals = totals.sort_values(["item_x", "weight", "item_y"], ascending=[True, False, True])
    totals["rank"] = totals.groupby("item_x").cumcount() + 1
    top = totals[totals["rank"] <= p["top_k"]]
    return top.rename(columns={"item_x": "item", "item_y": "neighbour"}).reset_index(drop=True)


def run_query(tmp_path, sessions: pd.DataFrame) -> pd.DataFrame:
    path = tmp_path / "train_sessions.parquet"
    sessions.to_parquet(path, index=False)
    dataset = DuckDBQueryDataset(
        filepath=str(SQL), tables={"train_sessions": str(path)}, query_parameters=PARAMETERS
    )
    return dataset.load()


def test_duckdb_runs_the_bigquery_sql_like_the_pandas_definition(tmp_path):
    sessions = random_sessions()
    result = run_query(tmp_path, sessions)
    expected = pandas_covisitation(sessions, PARAMETERS)
    assert len(result) == len(expected) > 100
    assert result["item"].tolist() == expected["item"].tolist()
    assert result["neighbour"].tolist() == expected["neighbour"].tolist()
    assert result["rank"].tolist() == expected["rank"].tolist()
    np.testing.assert_allclose(result["weight"], expected["weight"], rtol=1e-9)


def test_the_window_and_the_recent_events_matter(tmp_path):
    # Item 1 and 2 meet only two hours apart (outside the window); 3 and 4 are older events
    # than the session's last 6 and never pair.
    sessions = pd.DataFrame(
        {
            "session": [0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
            "item": [1, 2, 3, 4, 5, 6, 5, 6, 5, 6],
            "ts": [0, 7200, 10, 11, 100, 101, 102, 103, 104, 105],
            "type": [0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
        }
    )
    result = run_query(tmp_path, sessions)
    assert set(map(tuple, result[["item", "neighbour"]].to_numpy())) == {(5, 6), (6, 5)}
    weights = dict(zip(result["item"], result["weight"], strict=False))
    assert weights[5] > weights[6]  # 5's neighbour was carted once


def test_a_table_without_the_type_column_names_the_field(tmp_path):
    with pytest.raises(
        DatasetError, match=r"train_sessions\.parquet \(table `train_sessions`\) lack field 'type'"
    ):
        run_query(tmp_path, random_sessions().drop(columns="type"))

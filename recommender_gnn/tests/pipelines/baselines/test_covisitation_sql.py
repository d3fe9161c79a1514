"""covisitation_counts.sql and covisitation_buy2buy.sql, run by DuckDB, against pandas."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from kedro.io.core import DatasetError

from recommender_gnn.datasets.duckdb_query_dataset import _normalise_types
from tests.pipelines.baselines.sql_helpers import random_sessions, ranked, run_query, sorted_result

COUNTS = {
    "max_events_per_session": 6,
    "window_seconds": 3600,
    "time_weight": 3.0,
    "click_weight": 1.0,
    "cart_weight": 6.0,
    "order_weight": 3.0,
    "clicks_top_k": 5,
    "carts_orders_top_k": 4,
    "parts": 1,
    "part": 0,
}
BUY2BUY = {"max_events_per_session": 4, "window_seconds": 3 * 86_400, "top_k": 3}


def last_events(sessions: pd.DataFrame, count: int) -> pd.DataFrame:
    ordered = sessions.sort_values(
        ["session", "ts", "item", "type"], ascending=[True, False, True, True]
    )
    return ordered.groupby("session").head(count)


def pandas_counts(sessions: pd.DataFrame, p: dict) -> pd.DataFrame:
    """Both matrices of covisitation_counts.sql, written independently in pandas."""
    recent = last_events(sessions, p["max_events_per_session"])
    first, last = sessions["ts"].min(), sessions["ts"].max()
    pairs = recent.merge(recent, on="session")
    pairs = pairs[
        (pairs["item_x"] != pairs["item_y"])
        & ((pairs["ts_x"] - pairs["ts_y"]).abs() < p["window_seconds"])
    ]
    type_weight = np.array([p["click_weight"], p["cart_weight"], p["order_weight"]])
    pairs = pairs.assign(
        clicks=1 + p["time_weight"] * (pairs["ts_x"] - first) / (last - first),
        carts_orders=type_weight[pairs["type_y"].to_numpy()],
    )
    keys = ["item_x", "item_y"]
    per_session = pairs.groupby([*keys, "session"], as_index=False)[["clicks", "carts_orders"]]
    totals = per_session.max().groupby(keys, as_index=False)[["clicks", "carts_orders"]].sum()
    frames = []
    for matrix in ("clicks", "carts_orders"):
        weights = totals[keys].assign(weight=totals[matrix].round(6))
        top = ranked(weights, "item_x", "item_y", p[f"{matrix}_top_k"])
        frames.append(top.assign(matrix=matrix))
    both = pd.concat(frames).rename(columns={"item_x": "item", "item_y": "neighbour"})
    return both.sort_values(["matrix", "item", "rank"]).reset_index(drop=True)


def pandas_buy2buy(sessions: pd.DataFrame, p: dict) -> pd.DataFrame:
    buys = last_events(sessions[sessions["type"] > 0], p["max_events_per_session"])
    pairs = buys.merge(buys, on="session")
    pairs = pairs[
        (pairs["item_x"] != pairs["item_y"])
        & ((pairs["ts_x"] - pairs["ts_y"]).abs() < p["window_seconds"])
    ]
    pairs = pairs.drop_duplicates(["session", "item_x", "item_y"])
    totals = pairs.groupby(["item_x", "item_y"]).size().rename("weight").reset_index()
    top = ranked(totals.astype({"weight": float}), "item_x", "item_y", p["top_k"])
    return top.rename(columns={"item_x": "item", "item_y": "neighbour"})


def assert_counts_equal_pandas(tmp_path, sessions: pd.DataFrame) -> pd.DataFrame:
    result = run_query(tmp_path, "covisitation_counts", sessions, COUNTS)
    result = result.astype({"matrix": str}).sort_values(["matrix", "item", "rank"])
    result = result.reset_index(drop=True)
    expected = pandas_counts(sessions, COUNTS)
    assert len(result) == len(expected)
    for column in ("matrix", "item", "neighbour", "rank"):
        assert result[column].astype(str).tolist() == expected[column].astype(str).tolist()
    np.testing.assert_allclose(result["weight"], expected["weight"], rtol=1e-9)
    return result


def test_covisitation_counts_equal_the_pandas_definition(tmp_path):
    result = assert_counts_equal_pandas(tmp_path, random_sessions())
    assert len(result) > 200
    assert set(result["matrix"]) == {"clicks", "carts_orders"}
    # The two matrices rank differently: the type weights and the time weights disagree.
    best = result[result["rank"] == 1]
    firsts = [
        dict(zip(part["item"], part["neighbour"], strict=True))
        for _, part in best.groupby("matrix", observed=True)
    ]
    assert firsts[0] != firsts[1]


def shortcut_cases(sessions: pd.DataFrame, p: dict) -> dict:
    """How many sessions lie within one window (paired per item, not per event), and per
    matrix how many items have top_k, some, or no neighbours of one session's largest weight
    (the lighter neighbours of the first skip the sort)."""
    recent = last_events(sessions, p["max_events_per_session"])
    span = recent.groupby("session")["ts"].agg(lambda ts: ts.max() - ts.min())
    within = span < p["window_seconds"]
    cases = {"within": int(within.sum()), "longer": int((~within).sum())}
    totals = pandas_counts(sessions, {**p, "clicks_top_k": 10**9, "carts_orders_top_k": 10**9})
    strongest = {"clicks": 1 + p["time_weight"], "carts_orders": max(
        p["click_weight"], p["cart_weight"], p["order_weight"])}  # fmt: skip
    for matrix, weights in totals.groupby("matrix"):
        strong = (weights["weight"] >= strongest[matrix]).groupby(weights["item"]).sum()
        top_k = p[f"{matrix}_top_k"]
        cases[matrix] = (int((strong >= top_k).sum()), int(((strong > 0) & (strong < top_k)).sum()))
    return cases


def test_the_shortcuts_are_exact_where_each_applies(tmp_path):
    sessions = random_sessions(seed=0, n_items=60)
    cases = shortcut_cases(sessions, COUNTS)
    assert cases["within"] > 50 and cases["longer"] > 50
    assert min(cases["clicks"]) > 10 and min(cases["carts_orders"]) > 1
    assert_counts_equal_pandas(tmp_path, sessions)


def test_counting_in_parts_gives_the_one_pass_result(tmp_path):
    sessions = random_sessions(seed=3)
    whole = run_query(tmp_path, "covisitation_counts", sessions, COUNTS)
    parts = run_query(
        tmp_path, "covisitation_counts", sessions, COUNTS, parts=3, memory_limit="200MB",
        temp_directory=str(tmp_path / "spill"), preserve_insertion_order=False,
    )  # fmt: skip
    order = ["matrix", "item", "rank"]
    pd.testing.assert_frame_equal(
        whole.sort_values(order, ignore_index=True), parts.sort_values(order, ignore_index=True)
    )
    assert isinstance(whole["matrix"].dtype, pd.CategoricalDtype)  # not 1 object per row


def test_string_columns_arrive_as_categoricals_in_a_fixed_order():
    table = pa.table({"matrix": ["clicks", "carts_orders", "clicks"], "item": [1, 2, 3]})
    frame = _normalise_types(table)
    assert list(frame["matrix"].cat.categories) == ["carts_orders", "clicks"]
    assert frame["matrix"].tolist() == ["clicks", "carts_orders", "clicks"]


def test_the_window_the_recent_events_and_the_types_matter(tmp_path):
    # 1 and 2 meet only two hours apart (outside the window); 3 and 4 are older than the
    # session's last 6 events and never pair; 6 was carted once.
    sessions = pd.DataFrame(
        {
            "session": [0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
            "item": [1, 2, 3, 4, 5, 6, 5, 6, 5, 6],
            "ts": [0, 7200, 10, 11, 100, 101, 102, 103, 104, 105],
            "type": [0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
        }
    )
    result = run_query(tmp_path, "covisitation_counts", sessions, COUNTS)
    pairs = set(map(tuple, result[["matrix", "item", "neighbour", "weight"]].to_numpy()))
    assert {(m, i, n) for m, i, n, _ in pairs} == {
        (m, i, n) for m in ("clicks", "carts_orders") for i, n in ((5, 6), (6, 5))
    }
    # carts_orders: 5's neighbour 6 was carted (6), 6's neighbour 5 only clicked (1).
    assert ("carts_orders", 5, 6, 6.0) in pairs and ("carts_orders", 6, 5, 1.0) in pairs
    # clicks: the later of a pair's events weighs more (item 6's last event is the newer).
    weights = {(i, n): w for m, i, n, w in pairs if m == "clicks"}
    assert weights[(6, 5)] > weights[(5, 6)] > 1.0


def test_buy2buy_equals_the_pandas_definition(tmp_path):
    sessions = random_sessions(seed=1, n_sessions=300)
    result = sorted_result(run_query(tmp_path, "covisitation_buy2buy", sessions, BUY2BUY))
    expected = pandas_buy2buy(sessions, BUY2BUY)
    assert len(result) == len(expected) > 50
    assert result[["item", "neighbour", "rank"]].to_numpy().tolist() == (
        expected[["item", "neighbour", "rank"]].to_numpy().tolist()
    )
    np.testing.assert_allclose(result["weight"], expected["weight"])


def test_buy2buy_pairs_only_carts_and_orders(tmp_path):
    sessions = pd.DataFrame(
        {
            "session": [0, 0, 0, 1, 1],
            "item": [1, 2, 3, 2, 3],
            "ts": [0, 10, 20, 0, 2 * 86_400],  # two days apart: inside the 3-day window
            "type": [0, 1, 2, 1, 1],
        }
    )
    result = run_query(tmp_path, "covisitation_buy2buy", sessions, BUY2BUY)
    pairs = {(i, n): w for i, n, w in result[["item", "neighbour", "weight"]].to_numpy()}
    assert pairs == {(2, 3): 2.0, (3, 2): 2.0}  # item 1 was only clicked


def test_a_table_without_the_type_column_names_the_field(tmp_path):
    with pytest.raises(
        DatasetError, match=r"sessions\.parquet \(table `sessions`\) lack field 'type'"
    ):
        run_query(tmp_path, "covisitation_counts", random_sessions().drop(columns="type"), COUNTS)


def test_parts_need_the_part_parameters(tmp_path):
    with pytest.raises(DatasetError, match="has no @part and @parts parameters"):
        run_query(tmp_path, "covisitation_buy2buy", random_sessions(), BUY2BUY, parts=2)

"""GA4's lateral UNNEST rewrite (ga4_sql_rewrites.py) keeps results: each query runs with and
without it on DuckDB. The kit's key-lookup rewrite: tests/datasets/test_duckdb_query_dataset.py."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ga4_mlops.datasets.duckdb_query_dataset import DuckDBQueryDataset
from ga4_mlops.datasets.ga4_sql_rewrites import LATERAL_UNNEST

ITEMS = pa.list_(pa.struct([("item_id", pa.string()), ("price", pa.float64())]))


@pytest.fixture
def events_folder(tmp_path):
    table = pa.table(
        {
            "user_id": ["a", "b", "c", "d"],
            "day": [1, 1, 2, 2],
            "items": pa.array(
                [
                    [{"item_id": "x", "price": 1.0}, {"item_id": "y", "price": 2.0}],
                    [],  # empty and NULL lists give no row, as in BigQuery's comma join
                    None,
                    [{"item_id": None, "price": 3.0}, {"item_id": "x", "price": 4.0}],
                ],
                type=ITEMS,
            ),
        }
    )
    pq.write_table(table, tmp_path / "events_1.parquet")
    return tmp_path


def run_both(folder, sql: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    query = folder / "query.sql"
    query.write_text(sql)
    tables = {"events_*": str(folder / "events_*.parquet")}
    options = {"filepath": str(query), "tables": tables, "categorical_strings": False}
    rewritten = DuckDBQueryDataset(**options, sql_rewrites=[LATERAL_UNNEST])
    plain = DuckDBQueryDataset(**options)
    return rewritten.load(), plain.load(), rewritten.transpile()[0]


def test_a_lateral_unnest_becomes_a_select_list_unnest_with_the_same_rows(events_folder):
    rewritten, plain, duckdb_sql = run_both(
        events_folder,
        "SELECT e.user_id, e.day, item.item_id AS item_id, item.price AS price "
        "FROM `events_*` AS e, UNNEST(e.items) AS item "
        "WHERE item.price > 0.5 ORDER BY user_id, price",
    )
    assert "CROSS JOIN UNNEST" not in duckdb_sql and "UNNEST(e.items) AS item" in duckdb_sql
    pd.testing.assert_frame_equal(rewritten, plain)
    assert rewritten["user_id"].tolist() == ["a", "a", "d", "d"]
    assert rewritten["item_id"].fillna("-").tolist() == ["x", "y", "-", "x"]


def test_a_lateral_unnest_in_a_cte_with_distinct_keeps_its_result(events_folder):
    rewritten, plain, duckdb_sql = run_both(
        events_folder,
        "WITH viewed AS (SELECT user_id, day, items FROM `events_*`), "
        "pairs AS (SELECT DISTINCT v.day, item.item_id FROM viewed AS v, UNNEST(v.items) AS item "
        "WHERE item.item_id IS NOT NULL) "
        "SELECT day, COUNT(*) AS items FROM pairs GROUP BY day ORDER BY day",
    )
    assert "CROSS JOIN UNNEST" not in duckdb_sql
    pd.testing.assert_frame_equal(rewritten, plain)
    assert rewritten["items"].tolist() == [2, 1]


@pytest.mark.parametrize(
    "source",
    [
        "`events_*` AS e, UNNEST(e.items) AS item WITH OFFSET AS position",
        "`events_*` AS e, UNNEST([1, 2]) AS item",
        "`events_*` AS e CROSS JOIN `events_*` AS f, UNNEST(e.items) AS item",
    ],
)
def test_other_unnest_shapes_are_left_to_the_plain_transpilation(events_folder, source):
    _, _, duckdb_sql = run_both(events_folder, f"SELECT e.user_id FROM {source}")
    assert "UNNEST(e.items) AS item FROM" not in duckdb_sql
    assert "CROSS JOIN UNNEST" in duckdb_sql or "UNNEST" in duckdb_sql.split("FROM", 1)[1]

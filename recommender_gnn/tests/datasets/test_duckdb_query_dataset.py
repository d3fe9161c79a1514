"""DuckDBQueryDataset (kit): BigQuery SQL run by DuckDB on parquet, its options and its errors
on bad input, on small tables written here. One source for every blueprint: kit/files/tests/
datasets/test_duckdb_query_dataset.py (kit/sync.py); a blueprint's own queries are tested in
its own files."""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kedro.io.core import DatasetError
from sqlglot import exp

from recommender_gnn.datasets import duckdb_query_dataset
from recommender_gnn.datasets.duckdb_query_dataset import DuckDBQueryDataset, _normalise_types

EVENTS = pa.table(
    {
        "user": ["b", "a", "c", "a"],
        "day": pa.array([1, 1, 2, 3], pa.int64()),
        "params": pa.array(
            [
                [{"key": "n", "value": 1}, {"key": "m", "value": 5}],
                [{"key": "n", "value": 2}, {"key": "n", "value": 7}],
                [],
                None,
            ],
            pa.list_(pa.struct([("key", pa.string()), ("value", pa.int64())])),
        ),
    }
)
LOOKUP = (
    "SELECT user, day, (SELECT MAX(p.value) FROM UNNEST(params) AS p WHERE p.key = @key) AS n "
    "FROM `events_*` WHERE day >= @first_day ORDER BY day, user"
)


def upper_users(node: exp.Expression) -> exp.Expression:
    """A rewrite plugged in by import path (sql_rewrites): selected ``user`` -> ``UPPER(user)``."""
    if isinstance(node, exp.Column) and node.name == "user" and node.arg_key == "expressions":
        return exp.alias_(exp.Upper(this=node.copy()), "user")
    return node


def write_events(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(EVENTS.slice(0, 2), folder / "events_20210101.parquet")
    pq.write_table(EVENTS.slice(2), folder / "events_20210102.parquet")
    return {"events_*": str(folder / "events_*.parquet")}


def dataset(tmp_path: Path, sql: str, **options) -> DuckDBQueryDataset:
    (tmp_path / "query.sql").write_text(sql)
    options.setdefault("tables", write_events(tmp_path / "events"))
    return DuckDBQueryDataset(filepath=str(tmp_path / "query.sql"), **options)


def load_error(data: DuckDBQueryDataset) -> str:
    """Kedro wraps load errors in DatasetError; ours is a ValueError underneath."""
    with pytest.raises(DatasetError) as caught:
        data.load()
    assert isinstance(caught.value.__cause__, ValueError)
    return str(caught.value)


def test_parameters_are_bound_and_unused_ones_ignored(tmp_path):
    parameters = {"key": "n", "first_day": 1, "unused": "x"}
    result = dataset(tmp_path, LOOKUP, query_parameters=parameters).load()
    assert result["user"].tolist() == ["a", "b", "c", "a"]
    assert result["n"].tolist()[:2] == [7, 1] and result["n"].iloc[2:].isna().all()


def test_a_missing_parameter_is_named_with_the_file_and_the_given_ones(tmp_path):
    message = load_error(dataset(tmp_path, LOOKUP, query_parameters={"key": "n"}))
    assert "query.sql needs query parameter(s) ['first_day'], not given in query_parameters" in (
        message
    )
    assert "(it has ['key'])" in message


def test_the_key_lookup_rewrite_keeps_the_result(tmp_path):
    parameters = {"key": "n", "first_day": 1}
    rewritten = dataset(tmp_path, LOOKUP, query_parameters=parameters)
    plain = dataset(tmp_path, LOOKUP, query_parameters=parameters, rewrite_unnest_lookups=False)
    assert "LIST_AGGREGATE(" in rewritten.transpile()[0] and "lambda p:" in rewritten.transpile()[0]
    assert "UNNEST(params)" in plain.transpile()[0]
    pd.testing.assert_frame_equal(rewritten.load(), plain.load())


def test_a_rewrite_plugged_in_by_import_path_runs_after_the_built_in_one(tmp_path):
    data = dataset(
        tmp_path,
        "SELECT user FROM `events_*` ORDER BY user",
        sql_rewrites=[f"{__name__}.upper_users"],
    )
    assert data.load()["user"].tolist() == ["A", "A", "B", "C"]
    with pytest.raises(DatasetError, match=r"query\.sql: sql_rewrites entry 'no\.such' does not"):
        dataset(tmp_path, "SELECT 1", sql_rewrites=["no.such"])
    with pytest.raises(DatasetError, match="is not an import path of a function"):
        dataset(tmp_path, "SELECT 1", sql_rewrites=[f"{__name__}.EVENTS"])


def test_a_wildcard_table_gets_its_suffix_and_a_qualified_name_resolves(tmp_path):
    tables = write_events(tmp_path / "events")
    data = dataset(
        tmp_path,
        "SELECT _TABLE_SUFFIX AS suffix, COUNT(*) AS n FROM `project.ga4.events_*` "
        "WHERE _TABLE_SUFFIX >= @from_suffix GROUP BY suffix ORDER BY suffix",
        tables={"project.ga4.events_*": tables["events_*"]},
        query_parameters={"from_suffix": "20210101"},
        categorical_strings=False,
    )
    assert data.load().to_dict("records") == [
        {"suffix": "20210101", "n": 2},
        {"suffix": "20210102", "n": 2},
    ]


def test_files_that_do_not_fit_the_wildcard_and_missing_files_are_named(tmp_path):
    write_events(tmp_path / "events")
    (tmp_path / "events" / "events_20210101.parquet").rename(tmp_path / "events" / "x.parquet")
    stray = dataset(
        tmp_path, "SELECT * FROM `events_*`", tables={"events_*": str(tmp_path / "events/*")}
    )
    assert "do not start with 'events_'" in load_error(stray)
    nowhere = str(tmp_path / "nowhere" / "*.parquet")
    message = load_error(dataset(tmp_path, "SELECT * FROM t", tables={"t": nowhere}))
    assert f"no parquet files match '{nowhere}' (table `t` of {tmp_path / 'query.sql'})" in message


def test_a_missing_field_is_named_with_its_path_and_table(tmp_path):
    message = load_error(
        dataset(tmp_path, "SELECT (SELECT MAX(p.weight) FROM UNNEST(params) AS p) FROM `events_*`")
    )
    assert f"the data at {tmp_path / 'events' / 'events_*.parquet'} (table `events_*`)" in message
    assert "lack field 'params.weight' required by" in message


def test_bigquery_sql_duckdb_cannot_run_is_named(tmp_path):
    data = dataset(tmp_path, "SELECT ARRAY_AGG(x ORDER BY y LIMIT 1)[OFFSET(0)] AS v FROM t")
    with pytest.raises(ValueError, match=r"query\.sql uses BigQuery SQL that sqlglot cannot"):
        data.transpile()


def test_save_is_refused_and_exists_reflects_the_sql_file(tmp_path):
    data = dataset(tmp_path, "SELECT 1")
    with pytest.raises(DatasetError, match="read-only"):
        data.save(pd.DataFrame())
    assert data.exists()
    assert not DuckDBQueryDataset(filepath=str(tmp_path / "no.sql"), tables={"t": "x"}).exists()
    with pytest.raises(DatasetError, match=r"no\.sql needs at least one table"):
        DuckDBQueryDataset(filepath="no.sql", tables={})


def test_parts_run_the_query_once_per_part_and_equal_one_pass(tmp_path):
    sql = (
        "SELECT user, day FROM `events_*` WHERE MOD(day, @parts) = @part OR @parts = 1 "
        "ORDER BY day, user"
    )
    whole = dataset(tmp_path, sql, query_parameters={"part": 0, "parts": 1}).load()
    parts = dataset(tmp_path, sql, query_parameters={"part": 0, "parts": 1}, parts=2).load()
    pd.testing.assert_frame_equal(
        parts.sort_values(["day", "user"], ignore_index=True), whole, check_categorical=False
    )
    assert len(parts) == 4 and sorted(parts["user"].cat.categories) == ["a", "b", "c"]
    without = dataset(tmp_path, "SELECT user FROM `events_*`", parts=3)
    assert "has no @part and @parts parameters, so it cannot run in 3 parts" in load_error(without)
    with pytest.raises(DatasetError, match=r"query\.sql: parts must be >= 1, got 0"):
        dataset(tmp_path, sql, parts=0)


def test_a_partition_table_gives_one_loader_per_file(tmp_path):
    sql = "SELECT user, day FROM `events_*` ORDER BY day, user"
    loaders = dataset(tmp_path, sql, partition_table="events_*").load()
    assert sorted(loaders) == ["events_20210101", "events_20210102"]
    assert loaders["events_20210101"]()["user"].tolist() == ["a", "b"]
    assert loaders["events_20210102"]()["day"].tolist() == [2, 3]
    with pytest.raises(DatasetError, match="partition_table 'nope' is not one of its tables"):
        dataset(tmp_path, sql, partition_table="nope")
    with pytest.raises(DatasetError, match="partition_key and result_directory go together"):
        dataset(tmp_path, sql, partition_table="events_*", partition_key=["user"])
    with pytest.raises(DatasetError, match="parts must be 1 with result_directory"):
        dataset(
            tmp_path, sql, partition_table="events_*", partition_key=["user"],
            result_directory=str(tmp_path / "split"), parts=2,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("sql", "shared"),
    [
        ("SELECT user, COUNT(*) AS n FROM `events_*` GROUP BY user", False),
        ("SELECT COUNT(*) AS n FROM `events_*`", True),
    ],
)
def test_a_split_result_runs_once_and_gives_each_file_its_rows(tmp_path, sql, shared):
    """partition_key + result_directory: the query runs over every file at once, and each
    file's loader reads the rows of the keys in that file (rows without the key: all)."""
    users = tmp_path / "users"
    users.mkdir()
    pq.write_table(pa.table({"user": ["a"]}), users / "chunk_0.parquet")
    pq.write_table(pa.table({"user": ["b", "c"]}), users / "chunk_1.parquet")
    pq.write_table(pa.table({"user": ["z"]}), users / "chunk_2.parquet")
    tables = {**write_events(tmp_path / "events"), "users": str(users / "*.parquet")}
    split = dataset(
        tmp_path, sql, tables=tables, partition_table="users", partition_key=["user"],
        result_directory=str(tmp_path / "split"),
    ).load()  # fmt: skip
    parts = {name: load() for name, load in split.items()}
    assert (tmp_path / "split" / "shared.parquet").exists() == shared
    if shared:
        assert all(part["n"].tolist() == [4] for part in parts.values())
        return
    assert parts["chunk_0"].to_dict("records") == [{"user": "a", "n": 2}]
    assert sorted(parts["chunk_1"]["user"]) == ["b", "c"]
    assert parts["chunk_2"].empty and list(parts["chunk_2"].columns) == ["user", "n"]


@pytest.mark.parametrize("categorical_strings", [True, False])
def test_a_result_converted_in_chunks_equals_one_conversion(
    tmp_path, monkeypatch, categorical_strings
):
    """Chunked conversion bounds memory; it must not change a row, a value or a type."""
    sql = (
        "SELECT x, CAST(MOD(x, 7) AS STRING) AS s, IF(MOD(x, 3) = 0, NULL, x) AS n, "
        "IF(x > 4000, NULL, 'late') AS tail, DATE_ADD(DATE '2021-01-01', INTERVAL x DAY) AS d, "
        "CAST(x AS NUMERIC) AS money FROM UNNEST(GENERATE_ARRAY(1, 5000)) AS x "
        "WHERE x <= @last ORDER BY x"
    )
    options = {"query_parameters": {"last": 5000}, "categorical_strings": categorical_strings}
    whole = dataset(tmp_path, sql, **options).load()
    monkeypatch.setattr(duckdb_query_dataset, "_ROWS_PER_CHUNK", 1000)
    chunked = dataset(tmp_path, sql, **options).load()
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked["x"].tolist() == list(range(1, 5001))
    assert str(chunked["d"].dtype) == "datetime64[ns]"
    assert chunked["n"].dtype == "float64" and chunked["money"].dtype == "float64"
    strings = chunked["s"].dtype
    assert isinstance(strings, pd.CategoricalDtype) == categorical_strings
    if categorical_strings:
        assert list(strings.categories) == sorted(strings.categories)
    empty = dataset(tmp_path, sql, **{**options, "query_parameters": {"last": 0}}).load()
    assert empty.columns.tolist() == ["x", "s", "n", "tail", "d", "money"] and empty.empty


def test_arrow_results_convert_as_the_dataset_does():
    table = pa.table({"label": ["clicks", "carts", "clicks"], "item": [1, 2, 3]})
    frame = _normalise_types(table)
    assert list(frame["label"].cat.categories) == ["carts", "clicks"]
    assert frame["label"].tolist() == ["clicks", "carts", "clicks"]
    plain = _normalise_types([table.slice(0, 1), table.slice(1)], categorical_strings=False)
    pd.testing.assert_frame_equal(plain, table.to_pandas())

"""Run a BigQuery-dialect SQL file on DuckDB over local parquet files.

Why this exists: kedro-datasets has no dataset that runs *BigQuery-dialect* SQL on DuckDB
over parquet (``pandas.SQLQueryDataset`` needs a SQLAlchemy database and runs SQL as written;
``ibis.TableDataset`` builds queries from ibis expressions, not from a SQL file). This one
keeps each file in ``src/recommender_gnn/sql/`` the single source of truth: ``conf/gcp`` runs it
on BigQuery, ``conf/local`` runs the same file here. One source for every blueprint:
kit/files/src/recommender_gnn/datasets/duckdb_query_dataset.py (kit/sync.py).
"""

from __future__ import annotations

import contextlib
import glob
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from kedro.io.core import AbstractDataset, DatasetError
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from .duckdb_sql_rewrites import (
    DuckDBLambdas,
    import_rewrite,
    literal,
    missing_field,
    quote,
    quote_name,
    register_table,
    sql_parameters,
    unnest_lookup_as_list_lambda,
)

# BigQuery functions DuckDB lacks, defined as DuckDB macros. FARM_FINGERPRINT is not
# reproduced: DuckDB's own hash stands in, so hash-based samples are deterministic per
# engine (and DuckDB version) but not the same rows as on BigQuery.
BIGQUERY_COMPAT_MACROS = {
    "farm_fingerprint": "CREATE MACRO farm_fingerprint(value) AS CAST(hash(value) >> 1 AS BIGINT)",
}
# Rows of a result converted to pandas at a time (see _normalise_types).
_ROWS_PER_CHUNK = 204_800
Result = pd.DataFrame | dict[str, Callable[[], pd.DataFrame]]


class DuckDBQueryDataset(AbstractDataset[None, Result]):
    """Load the result of a BigQuery Standard SQL file, run by DuckDB on parquet files.

    The SQL is transpiled with sqlglot (``read="bigquery"``, unsupported features raise).
    Each entry of ``tables`` maps a table name *as the SQL writes it* to a parquet glob;
    a wildcard name such as ``events_*`` also gets BigQuery's ``_TABLE_SUFFIX`` column: the
    file name (without ``.parquet``) minus the part before ``*``. Qualified names
    (``project.dataset.events_*``) are created as an attached in-memory catalog and schema.
    Key lookups in repeated records, ``(SELECT MAX(ep.value.int_value) FROM UNNEST(event_params)
    AS ep WHERE ep.key = 'id')``, become DuckDB list lambdas: same result, about 4 times faster
    (``rewrite_unnest_lookups``). A blueprint adds its own rewrites by import path
    (``sql_rewrites``).

    Example (``conf/local/catalog.yml``)::

        daily_counts:
          type: recommender_gnn.datasets.duckdb_query_dataset.DuckDBQueryDataset
          filepath: src/recommender_gnn/sql/daily_counts.sql
          tables:
            "events_*": data/01_raw/events/events_*.parquet
          query_parameters: ${globals:daily_counts_query}
          memory_limit: 6GB
          temp_directory: data/duckdb_spill
    """

    def __init__(
        self,
        *,
        filepath: str,
        tables: Mapping[str, str],
        query_parameters: Mapping[str, Any] | None = None,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
        preserve_insertion_order: bool = True,
        parts: int = 1,
        partition_table: str | None = None,
        partition_key: list[str] | None = None,
        result_directory: str | None = None,
        rewrite_unnest_lookups: bool = True,
        sql_rewrites: list[str] | None = None,
        categorical_strings: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Args:
        filepath: the BigQuery-dialect SQL file (relative to the project root).
        tables: table name as written in the SQL -> local parquet glob.
        query_parameters: values of the SQL's ``@name`` parameters (names the SQL does not
            use are ignored, so one block can serve several queries).
        threads: DuckDB worker threads (default: DuckDB's choice, all cores).
        memory_limit: DuckDB memory cap such as ``"4GB"`` (default: DuckDB's choice); with
            ``temp_directory``, joins, aggregations and sorts larger than it spill to disk.
        temp_directory: where DuckDB spills (default: DuckDB's choice).
        preserve_insertion_order: ``false`` lets DuckDB return rows in any order and hold
            less in memory: for queries whose consumers sort or index their input.
        parts: run the query this many times with ``@part`` = 0 .. parts - 1 and ``@parts``
            = parts and concatenate the results: a query that splits its work by
            ``MOD(key, @parts) = @part`` then needs about 1/parts of the memory per pass.
        partition_table: a table of ``tables`` whose glob matches several files: ``load``
            then returns one loader per file (``{file stem: callable}``, as
            ``PartitionedDataset`` does), each running the query with that table bound to
            its one file. A node can so process a large input piece by piece.
        partition_key: with ``partition_table`` and ``result_directory``: run the query
            once over every file instead, write the result to ``result_directory`` split by
            the file holding each row's key (these columns of the partition table; a result
            without them is shared by every file), and give one loader per file reading its
            part.
        result_directory: where the one run writes its parquet parts (replaced each load).
        rewrite_unnest_lookups: turn UNNEST key-lookup subqueries into list lambdas.
        sql_rewrites: import paths (``package.module.function``) of further rewrites, each
            taking and returning a sqlglot expression, applied to every node of the SQL
            (``Expression.transform``) in this order, after the key-lookup rewrite.
        categorical_strings: string columns as categoricals with sorted categories (a label
            column of many millions of rows would otherwise hold one Python object per row
            on pandas 2); ``false`` gives pandas' usual string columns.
        metadata: ignored by Kedro, kept for plugins.
        """
        owner = f"DuckDBQueryDataset for {filepath}"
        if not tables:
            raise DatasetError(f"{owner} needs at least one table")
        self._filepath = PurePosixPath(filepath)
        self._tables = dict(tables)
        self._query_parameters = dict(query_parameters or {})
        if int(parts) < 1:
            raise DatasetError(f"{owner}: parts must be >= 1, got {parts}")
        self._parts = int(parts)
        if partition_table is not None and partition_table not in self._tables:
            raise DatasetError(
                f"{owner}: partition_table '{partition_table}' is not one of its tables "
                f"{sorted(self._tables)}"
            )
        if (partition_key is None) != (result_directory is None) or (
            partition_key is not None and partition_table is None
        ):
            raise DatasetError(
                f"{owner}: partition_key and result_directory go together, with a partition_table"
            )
        if result_directory is not None and self._parts > 1:
            raise DatasetError(
                f"{owner}: parts must be 1 with result_directory (the split result is written "
                f"in one run), got {parts}"
            )
        self._partition_table = partition_table
        self._partition_key = list(partition_key or [])
        self._result_directory = result_directory
        self._rewrite_unnest_lookups = rewrite_unnest_lookups
        if isinstance(sql_rewrites, str):
            sql_rewrites = [sql_rewrites]
        try:
            self._sql_rewrites = [import_rewrite(path, owner) for path in sql_rewrites or []]
        except ValueError as error:
            raise DatasetError(str(error)) from error
        self._categorical_strings = bool(categorical_strings)
        self._connection_config: dict[str, Any] = {}
        if threads is not None:
            self._connection_config["threads"] = int(threads)
        if memory_limit is not None:
            self._connection_config["memory_limit"] = str(memory_limit)
        if temp_directory is not None:
            self._connection_config["temp_directory"] = str(temp_directory)
        if not preserve_insertion_order:
            self._connection_config["preserve_insertion_order"] = False
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "tables": self._tables,
            "query_parameters": self._query_parameters,
            "parts": self._parts,
            "partition_table": self._partition_table,
            **self._connection_config,
        }

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def save(self, data: None) -> NoReturn:
        raise DatasetError("DuckDBQueryDataset is read-only: 'save' is not supported")

    def transpile(self) -> tuple[str, set[str]]:
        """The SQL in DuckDB dialect and the names of its parameters."""
        ast = self._parse()
        parameter_names = sql_parameters(ast)
        if self._rewrite_unnest_lookups:
            ast = ast.transform(unnest_lookup_as_list_lambda)
        for rewrite in self._sql_rewrites:
            ast = ast.transform(rewrite)
        try:
            duckdb_sql = ast.sql(dialect=DuckDBLambdas, unsupported_level=ErrorLevel.RAISE)
        except UnsupportedError as error:
            raise ValueError(
                f"{self._filepath} uses BigQuery SQL that sqlglot cannot translate to "
                f"DuckDB: {error}"
            ) from error
        return duckdb_sql, parameter_names

    def load(self) -> Result:
        if self._partition_table is None:
            return self._run(self._tables)
        files = sorted(glob.glob(self._tables[self._partition_table]))
        if self._result_directory is None:
            return {
                Path(file).stem: partial(self._run, {**self._tables, self._partition_table: file})
                for file in files
            }
        split = _SplitResult(self, files)
        return {Path(file).stem: partial(split.part, Path(file).stem) for file in files}

    def _run(self, tables: Mapping[str, str]) -> pd.DataFrame:
        duckdb_sql, parameter_names = self._checked_sql()
        with self._connect(tables) as connection:

            def readers() -> Iterator[pa.RecordBatchReader]:
                for part in range(self._parts):
                    values = dict(self._query_parameters)
                    if self._parts > 1:
                        values.update(part=part, parts=self._parts)
                    parameters = {name: values[name] for name in sorted(parameter_names)}
                    relation = connection.sql(duckdb_sql, params=parameters or None)
                    yield relation.to_arrow_reader(_ROWS_PER_CHUNK)

            try:
                return _normalise_types(readers(), categorical_strings=self._categorical_strings)
            except duckdb.BinderException as error:
                raise ValueError(self._explain_binder_error(connection, error)) from error

    def write_split(self, files: list[str]) -> bool:
        """Run the query once over every partition file and write its result under
        ``result_directory``: ``part=<file stem>/`` per file when the result has the
        partition key, else one shared ``shared.parquet``. Returns whether it was split.

        DuckDB streams the result to parquet (spilling past ``memory_limit``), so no result
        of every key at once ever reaches Python.
        """
        duckdb_sql, parameter_names = self._checked_sql()
        parameters = {name: self._query_parameters[name] for name in sorted(parameter_names)}
        directory = Path(self._result_directory)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        keys = ", ".join(quote(key) for key in self._partition_key)
        with self._connect(self._tables) as connection:
            empty = connection.sql(
                f"SELECT * FROM ({duckdb_sql}) AS _q LIMIT 0", params=parameters or None
            ).to_arrow_table()
            pq.write_table(empty, directory / "schema.parquet")  # for parts without rows
            split = set(self._partition_key) <= set(empty.schema.names)
            if split:
                file_list = ", ".join(literal(f) for f in files)
                query = (
                    f"SELECT _q.*, _p._part FROM ({duckdb_sql}) AS _q JOIN ("
                    f"SELECT DISTINCT {keys}, parse_filename(filename, true) AS _part "
                    f"FROM read_parquet([{file_list}], filename = true)) AS _p USING ({keys})"
                )
                target = (
                    literal(str(directory / "parts")) + " (FORMAT parquet, PARTITION_BY (_part))"
                )
            else:
                query = duckdb_sql
                target = literal(str(directory / "shared.parquet")) + " (FORMAT parquet)"
            connection.execute(f"COPY ({query}) TO {target}", parameters or None)
        return split

    def _checked_sql(self) -> tuple[str, set[str]]:
        """The DuckDB SQL and its parameter names, once every parameter has a value."""
        duckdb_sql, parameter_names = self.transpile()
        if self._parts > 1 and not {"part", "parts"} <= parameter_names:
            raise ValueError(
                f"{self._filepath} has no @part and @parts parameters, so it cannot run in "
                f"{self._parts} parts"
            )
        given = set(self._query_parameters) | ({"part", "parts"} if self._parts > 1 else set())
        missing = sorted(parameter_names - given)
        if missing:
            raise ValueError(
                f"{self._filepath} needs query parameter(s) {missing}, not given in "
                f"query_parameters (it has {sorted(self._query_parameters)})"
            )
        return duckdb_sql, parameter_names

    @contextlib.contextmanager
    def _connect(self, tables: Mapping[str, str]) -> Iterator[duckdb.DuckDBPyConnection]:
        connection = duckdb.connect(config=self._connection_config)
        try:
            for macro in BIGQUERY_COMPAT_MACROS.values():
                connection.execute(macro)
            for table_name, parquet_glob in tables.items():
                register_table(connection, table_name, parquet_glob, self._filepath)
            yield connection
        finally:
            connection.close()

    def _parse(self) -> exp.Expression:
        path = Path(self._filepath)
        if not path.is_file():
            raise ValueError(f"SQL file {self._filepath} does not exist")
        try:
            return sqlglot.parse_one(path.read_text(encoding="utf-8"), read="bigquery")
        except ParseError as error:
            raise ValueError(f"{self._filepath} is not valid BigQuery SQL: {error}") from error

    def _explain_binder_error(
        self, connection: duckdb.DuckDBPyConnection, error: duckdb.BinderException
    ) -> str:
        """Name the field of the data that the SQL needs and the files lack."""
        schemas = {
            table_name: connection.sql(f"SELECT * FROM {quote_name(table_name)} LIMIT 0")
            .to_arrow_table()
            .schema
            for table_name in self._tables
        }
        field, table_name = missing_field(self._parse(), str(error), schemas)
        first_line = str(error).splitlines()[0]
        return (
            f"the data at {self._tables[table_name]} (table `{table_name}`) lack field "
            f"'{field}' required by {self._filepath} ({first_line})"
        )


class _SplitResult:
    """The loaders of one ``load`` of a split dataset: the first one called runs the query
    (``DuckDBQueryDataset.write_split``), then each reads its file's part."""

    def __init__(self, dataset: DuckDBQueryDataset, files: list[str]) -> None:
        self._dataset, self._files, self._split = dataset, files, None

    def part(self, stem: str) -> pd.DataFrame:
        if self._split is None:
            self._split = self._dataset.write_split(self._files)
        directory = Path(self._dataset._result_directory)
        files = [directory / "shared.parquet"]
        if self._split:
            files = sorted((directory / "parts" / f"_part={stem}").glob("*.parquet"))
        tables = [pq.read_table(f) for f in files or [directory / "schema.parquet"]]
        return _normalise_types(tables, categorical_strings=self._dataset._categorical_strings)


def _normalise_types(
    results: pa.Table | pa.RecordBatchReader | Iterable[pa.Table | pa.RecordBatchReader],
    categorical_strings: bool = True,
) -> pd.DataFrame:
    """Arrow results (one or several, concatenated) as one pandas frame, converted
    ``_ROWS_PER_CHUNK`` rows at a time (a 10x GA4 run peaked at 12.9 GB converting its whole
    result at once, at 9 GB in chunks). The frame equals one conversion of the whole: dates and
    timestamps in nanoseconds, decimals (DuckDB's SUM of integers) and integers with NULLs as
    float64, strings as categoricals with sorted categories if ``categorical_strings``."""
    if isinstance(results, (pa.Table, pa.RecordBatchReader)):
        results = [results]
    frames, schema = [], None
    for result in results:
        schema = schema or result.schema
        batches = result.to_batches(_ROWS_PER_CHUNK) if isinstance(result, pa.Table) else result
        frames += [_to_pandas(batch, categorical_strings) for batch in batches if batch.num_rows]
    if not frames:
        frames = [_to_pandas(schema.empty_table().combine_chunks(), categorical_strings)]
    for position, dtype in enumerate(frames[0].dtypes):
        if isinstance(dtype, pd.CategoricalDtype):  # one dtype in every chunk: sorted categories
            chunks = [frame.iloc[:, position].cat.categories for frame in frames]
            categories = [c for c in chunks if len(c)] or chunks[:1]  # all NULL: no categories
            union = categories[0].append(categories[1:]).unique().sort_values()
            for frame in frames:
                frame.isetitem(position, frame.iloc[:, position].cat.set_categories(union))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _to_pandas(batch: pa.RecordBatch | pa.Table, categorical_strings: bool) -> pd.DataFrame:
    arrays = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_decimal(field.type):
            column = column.cast(pa.float64())
        elif categorical_strings and (
            pa.types.is_string(field.type)
            or pa.types.is_large_string(field.type)
            or pa.types.is_string_view(field.type)
        ):
            column = column.dictionary_encode()
        arrays.append(column)
    frame = (
        type(batch).from_arrays(arrays, names=batch.schema.names).to_pandas(date_as_object=False)
    )
    for position, dtype in enumerate(frame.dtypes):
        if pd.api.types.is_datetime64_any_dtype(dtype):
            frame.isetitem(position, frame.iloc[:, position].dt.as_unit("ns"))
    return frame

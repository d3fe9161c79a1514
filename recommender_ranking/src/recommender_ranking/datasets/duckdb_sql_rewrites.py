"""The SQL rewrites and look-ups of ``DuckDBQueryDataset`` (duckdb_query_dataset.py), in their
own module to keep that one short: the DuckDB dialect sqlglot writes, UNNEST key lookups as
DuckDB list lambdas, the rewrites a catalog entry plugs in by import path, the query's
parameters, quoting, the parquet files as tables, and the field of the data a binder error is
about."""

from __future__ import annotations

import glob
import importlib
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

Rewrite = Callable[[exp.Expression], exp.Expression]
_MISSING_NAME = re.compile(
    r'Referenced column "([^"]+)" not found|Could not find key "([^"]+)" in struct'
)
# Aggregates a key lookup subquery may wrap, and DuckDB's list_aggregate name for each.
_LIST_AGGREGATES: dict[type[exp.Expression], str] = {
    exp.Max: "max",
    exp.Min: "min",
    exp.Sum: "sum",
    exp.AnyValue: "any_value",
}


class DuckDBLambdas(DuckDB):
    """DuckDB dialect writing lambdas as ``lambda x: ...``: DuckDB 2.0 rejects ``x -> ...``."""

    class Generator(DuckDB.Generator):
        def lambda_sql(
            self, expression: exp.Lambda, arrow_sep: str = "->", wrap: bool = True
        ) -> str:
            return (
                f"lambda {self.expressions(expression, flat=True)}: {self.sql(expression, 'this')}"
            )


def import_rewrite(path: str, owner: str) -> Rewrite:
    """The function at ``path`` (``package.module.function``): a rewrite of one sqlglot node,
    applied to every node of the parsed SQL (``Expression.transform``)."""
    module_name, _, name = str(path).rpartition(".")
    try:
        rewrite = getattr(importlib.import_module(module_name), name) if module_name else None
    except (ImportError, AttributeError) as error:
        message = f"{owner}: sql_rewrites entry '{path}' does not import: {error}"
        raise ValueError(message) from error
    if not callable(rewrite):
        raise ValueError(
            f"{owner}: sql_rewrites entry '{path}' is not an import path of a function "
            "(package.module.function) taking and returning a sqlglot expression"
        )
    return rewrite


def unnest_lookup_as_list_lambda(node: exp.Expression) -> exp.Expression:
    """``(SELECT [AGG](f(x)) FROM UNNEST(list) AS x [WHERE p(x)])`` -> list lambdas.

    Key lookups in repeated records, such as ``(SELECT MAX(ep.value.int_value) FROM
    UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id')``, become ``list_filter``/
    ``list_transform``/``list_aggregate``: same result, and about 4 times faster than DuckDB's
    correlated-subquery plan (a duplicate-eliminating join over every column of the outer
    rows). Only that exact shape is rewritten (one selected expression, one UNNEST, no joins,
    grouping, ordering or limit); anything else is left to the plain transpilation.
    Without an aggregate, BigQuery requires at most one match: the first one is taken.
    """
    select = node.this if isinstance(node, exp.Subquery) else None
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return node
    modifiers = ("joins", "laterals", "group", "having", "order", "limit", "offset", "distinct")
    if any(select.args.get(key) for key in (*modifiers, "qualify", "windows", "with")):
        return node
    source = select.args.get("from_") or select.args.get("from")
    unnest = source.this if source else None
    if not isinstance(unnest, exp.Unnest) or len(unnest.expressions) != 1:
        return node
    alias = unnest.args.get("alias")
    element_names = [column.name for column in alias.columns] if alias else []
    if unnest.args.get("offset") or len(element_names) != 1:
        return node
    body = select.expressions[0].unalias()
    aggregate = _LIST_AGGREGATES.get(type(body))
    if aggregate:
        body = body.this
    if body.find(exp.AggFunc, exp.Select):
        return node
    values: exp.Expression = unnest.expressions[0].copy()
    where = select.args.get("where")
    if where is not None:
        values = exp.Anonymous(
            this="list_filter",
            expressions=[
                values,
                exp.Lambda(
                    this=where.this.copy(), expressions=[exp.to_identifier(element_names[0])]
                ),
            ],
        )
    values = exp.Anonymous(
        this="list_transform",
        expressions=[
            values,
            exp.Lambda(this=body.copy(), expressions=[exp.to_identifier(element_names[0])]),
        ],
    )
    if aggregate:
        return exp.Anonymous(
            this="list_aggregate", expressions=[values, exp.Literal.string(aggregate)]
        )
    return exp.Anonymous(this="list_extract", expressions=[values, exp.Literal.number(1)])


def field_paths(ast: exp.Expression, table_names: set[str]) -> list[tuple[str, ...]]:
    """Dotted column references of the SQL, rewritten as paths into the source tables.

    ``ep.value.int_value`` under ``UNNEST(event_params) AS ep`` becomes
    ``event_params.value.int_value``; a leading table alias is dropped.
    """
    unnest_sources: dict[str, tuple[str, ...]] = {}
    for unnest in ast.find_all(exp.Unnest):
        alias = unnest.args.get("alias")
        if alias is None or not isinstance(unnest.expressions[0], (exp.Column, exp.Dot)):
            continue
        source = tuple(part.name for part in unnest.expressions[0].parts)
        for alias_name in [alias.name, *(column.name for column in alias.columns)]:
            if alias_name:
                unnest_sources[alias_name] = source
    table_aliases = {table.alias_or_name for table in ast.find_all(exp.Table)}
    table_aliases |= {name.split(".")[-1] for name in table_names}

    def resolve(path: tuple[str, ...], depth: int = 0) -> tuple[str, ...]:
        if depth < 5 and path[0] in unnest_sources:
            return resolve(unnest_sources[path[0]] + path[1:], depth + 1)
        if len(path) > 1 and path[0] in table_aliases:
            return resolve(path[1:], depth + 1)
        return path

    paths: list[tuple[str, ...]] = []
    for node in ast.find_all(exp.Column, exp.Dot):
        if isinstance(node.parent, exp.Dot):
            continue
        path = resolve(tuple(part.name for part in node.parts))
        if path and path not in paths:
            paths.append(path)
    return paths


def has_field(schema: pa.Schema, path: tuple[str, ...]) -> bool:
    """Whether ``path`` leads through structs (and lists of structs) of ``schema``."""
    if path[0] not in schema.names:
        return False
    data_type = schema.field(path[0]).type
    for name in path[1:]:
        while pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
            data_type = data_type.value_type
        if not pa.types.is_struct(data_type) or data_type.get_field_index(name) < 0:
            return False
        data_type = data_type.field(name).type
    return True


def missing_field(
    ast: exp.Expression, error: str, schemas: dict[str, pa.Schema]
) -> tuple[str | None, str]:
    """The full path of the field a DuckDB binder ``error`` names that the query reads and a
    table lacks, and that table (else the name the error gives and the first table)."""
    match = _MISSING_NAME.search(error)
    missing_name = next((group for group in match.groups() if group), None) if match else None
    for path in field_paths(ast, set(schemas)) if missing_name else []:
        lacking = [t for t, schema in schemas.items() if not has_field(schema, path)]
        if missing_name in path and lacking:
            return ".".join(path), lacking[0]
    return missing_name, next(iter(schemas))


def register_table(
    connection: duckdb.DuckDBPyConnection, table_name: str, parquet_glob: str, sql_file: object
) -> None:
    """Create ``table_name`` (maybe ``catalog.schema.name``) as a view over the files; a
    wildcard name (``events_*``) gets BigQuery's ``_TABLE_SUFFIX`` column."""
    files = sorted(glob.glob(parquet_glob))
    if not files:
        raise ValueError(
            f"no parquet files match '{parquet_glob}' (table `{table_name}` of "
            f"{sql_file}): write the data there or run the pipeline that writes it"
        )
    parts = table_name.split(".")
    if len(parts) > 3:
        raise ValueError(f"table name `{table_name}` has more than three parts")
    *qualifiers, name = parts
    if len(qualifiers) == 2:
        connection.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {quote(qualifiers[0])}")
    if qualifiers:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {'.'.join(quote(q) for q in qualifiers)}")
    suffix_column = ""
    if name.endswith("*"):
        prefix = name[:-1]
        strays = [f for f in files if not Path(f).name.startswith(prefix)]
        if strays:
            raise ValueError(
                f"files {strays[:3]} matched by '{parquet_glob}' do not start with "
                f"'{prefix}', so table `{table_name}` cannot give them a _TABLE_SUFFIX"
            )
        suffix_column = (
            f", substr(parse_filename(filename, true), {len(prefix) + 1}) AS _TABLE_SUFFIX"
        )
    file_list = ", ".join(literal(f) for f in files)
    connection.execute(
        f"CREATE VIEW {quote_name(table_name)} AS "
        f"SELECT * EXCLUDE (filename){suffix_column} "
        f"FROM read_parquet([{file_list}], filename = true, union_by_name = true)"
    )


def sql_parameters(ast: exp.Expression) -> set[str]:
    names = {node.name for node in ast.find_all(exp.Parameter)}
    names |= {node.name for node in ast.find_all(exp.Placeholder) if node.name}
    return names


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def quote_name(table_name: str) -> str:
    return ".".join(quote(part) for part in table_name.split("."))


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"

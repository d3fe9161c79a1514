"""What the offline BigQuery checks of the SQL share (zetasql/check_bigquery_sql.py): Google's
ZetaSQL analyser set up as BigQuery, parameters typed from their values in globals.yml, the
analysis of one statement, and the must_fail files that prove the check can fail.
Runs in its own environment (``zetasql/requirements.lock``): zetasql needs protobuf >= 6, the
main environment holds protobuf < 5 (kfp). ``make zetasql-check`` builds it and runs
check_bigquery_sql.py. Kit file: kit/files/zetasql/bigquery_analysis.py (kit/sync.py)."""

import re
import time
from pathlib import Path

from zetasql.api import Analyzer, CatalogBuilder, TableBuilder
from zetasql.types import (
    AnalyzerOptions,
    ArrayType,
    LanguageOptions,
    ProductMode,
    Type,
    TypeKind,
    ZetaSQLBuiltinFunctionOptions,
)

SCALARS = {
    "DATE": TypeKind.TYPE_DATE,
    "STRING": TypeKind.TYPE_STRING,
    "FLOAT64": TypeKind.TYPE_DOUBLE,
    "INT64": TypeKind.TYPE_INT64,
    "BOOL": TypeKind.TYPE_BOOL,
}


def bigquery_language() -> LanguageOptions:
    language = LanguageOptions.maximum_features()
    language.product_mode = ProductMode.PRODUCT_EXTERNAL
    return language


def bigquery_catalog(language: LanguageOptions, schemas: dict[str, dict[str, str]] | None = None):
    """A catalog builder with BigQuery's built-in functions and flat tables {table: {column:
    BigQuery type}} (names starting with "_" are comments)."""
    catalog = CatalogBuilder("bigquery").with_builtin_functions(
        ZetaSQLBuiltinFunctionOptions(language_options=language)
    )
    for table_name, columns in (schemas or {}).items():
        if table_name.startswith("_"):
            continue
        table = TableBuilder(table_name)
        for column, bigquery_type in columns.items():
            table.add_column(column, SCALARS[bigquery_type])
        catalog.add_table(table.build())
    return catalog


def resolve(value, globals_: dict):
    """A value written ``${a.b}`` (an interpolation inside globals.yml) -> globals a.b."""
    match = re.fullmatch(r"\$\{([\w.]+)\}", value) if isinstance(value, str) else None
    if not match:
        return value
    for key in match.group(1).split("."):
        globals_ = globals_[key]
    return globals_


def value_type(name: str, value, where: str) -> Type:
    """BigQuery type of a globals value: int -> INT64, str -> STRING, [int] -> ARRAY<INT64>."""
    if isinstance(value, list):
        return Type(
            type_kind=TypeKind.TYPE_ARRAY,
            array_type=ArrayType(element_type=value_type(name, value[0], where)),
        )
    for python_type, kind in ((bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"), (str, "STRING")):
        if isinstance(value, python_type):
            return Type(type_kind=SCALARS[kind])
    raise TypeError(f"globals {where}.{name} = {value!r} has no BigQuery type")


def globals_parameters(globals_: dict, block: str) -> list:
    """The query parameters of globals ``block``, each typed from its (resolved) value."""
    if block not in globals_:
        raise KeyError(f"conf/base/globals.yml has no block {block} for the query's parameters")
    return [
        AnalyzerOptions.QueryParameter(
            name=name, type=value_type(name, resolve(value, globals_), block)
        )
        for name, value in globals_[block].items()
    ]


def analyse(analyzer: Analyzer, sql: str) -> str | None:
    """None when the SQL analyses clean, else the analyser's message."""
    try:
        analyzer.analyze_statement(sql)
    except Exception as error:  # the analyser raises its own error types
        return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return None


def report(path: Path, project: Path, message: str | None, note: str = "") -> int:
    """Print one query's result; 1 when it failed."""
    print(
        f"{'ok  ' if message is None else 'FAIL'} {path.relative_to(project)}"
        + (note if message is None else f": {message}")
    )
    return int(message is not None)


def check_must_fail(analyzer: Analyzer, folder: Path, project: Path) -> int:
    """Each ``folder/*.sql`` is broken on purpose and must be rejected: the failures."""
    failures = 0
    for path in sorted(folder.glob("*.sql")):
        message = analyse(analyzer, path.read_text())
        name = path.relative_to(project)
        if message is not None:
            print(f"ok   {name} rejected as expected: {message}")
        else:
            print(f"FAIL {name} was accepted but is broken on purpose")
        failures += message is None
    return failures


def finish(failures: int, started: float) -> int:
    print(f"ZetaSQL BigQuery check: {failures} problem(s) in {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0

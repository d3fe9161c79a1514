"""Analyse the blueprint's SQL as BigQuery SQL, offline, with Google's ZetaSQL analyser.

DuckDB runs the queries locally after sqlglot's transpilation, which can hide errors that
only BigQuery raises (argument types, DATE vs INT64, functions BigQuery lacks). This script
analyses every ``src/recommender_gnn/sql/<file>.sql`` against the tables' BigQuery
schemas (``otto_bigquery_schema.json``) with the query parameters typed from its block
``<file>_query`` of ``conf/base/globals.yml`` (the values the catalogs pass), and each
``must_fail/*.sql`` too, without parameters: those are deliberately broken and must be
rejected, which proves the check can fail.

Runs in its own environment (``zetasql/requirements.lock``): zetasql needs protobuf >= 6,
the main environment holds protobuf < 5 (kfp). ``make zetasql-check`` builds and runs it.
Exit status 0 only when every query passes and every must_fail query is rejected.
"""

import json
import re
import sys
import time
from pathlib import Path

import yaml
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

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
SCALARS = {
    "DATE": TypeKind.TYPE_DATE,
    "STRING": TypeKind.TYPE_STRING,
    "FLOAT64": TypeKind.TYPE_DOUBLE,
    "INT64": TypeKind.TYPE_INT64,
    "BOOL": TypeKind.TYPE_BOOL,
}


def parameter_type(name: str, value, block: str = "") -> Type:
    """BigQuery type of a globals value: int -> INT64, str -> STRING, [int] -> ARRAY<INT64>."""
    if isinstance(value, list):
        return Type(
            type_kind=TypeKind.TYPE_ARRAY,
            array_type=ArrayType(element_type=parameter_type(name, value[0], block)),
        )
    for python_type, kind in ((bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"), (str, "STRING")):
        if isinstance(value, python_type):
            return Type(type_kind=SCALARS[kind])
    raise TypeError(f"globals {block}.{name} = {value!r} has no BigQuery type")


def resolve(value, globals_: dict):
    """A value written ``${a.b}`` (an interpolation inside globals.yml) -> globals a.b."""
    match = re.fullmatch(r"\$\{([\w.]+)\}", value) if isinstance(value, str) else None
    if not match:
        return value
    for key in match.group(1).split("."):
        globals_ = globals_[key]
    return globals_


def build_catalog(language: LanguageOptions):
    catalog = CatalogBuilder("bigquery").with_builtin_functions(
        ZetaSQLBuiltinFunctionOptions(language_options=language)
    )
    schemas = json.loads((HERE / "otto_bigquery_schema.json").read_text())
    for table_name, columns in schemas.items():
        if table_name.startswith("_"):
            continue
        table = TableBuilder(table_name)
        for column, bigquery_type in columns.items():
            table.add_column(column, SCALARS[bigquery_type])
        catalog.add_table(table.build())
    return catalog.build()


def build_analyzer(block: str | None) -> Analyzer:
    """An analyser whose query parameters are the globals block ``block`` (None: none)."""
    language = LanguageOptions.maximum_features()
    language.product_mode = ProductMode.PRODUCT_EXTERNAL
    parameters = []
    if block is not None:
        globals_ = yaml.safe_load((PROJECT / "conf" / "base" / "globals.yml").read_text())
        if block not in globals_:
            raise KeyError(f"conf/base/globals.yml has no block {block} for the query's parameters")
        parameters = [
            AnalyzerOptions.QueryParameter(
                name=name, type=parameter_type(name, resolve(value, globals_), block)
            )
            for name, value in globals_[block].items()
        ]
    options = AnalyzerOptions(language_options=language, query_parameters=parameters)
    return Analyzer(options, build_catalog(language))


def analyse(analyzer: Analyzer, path: Path) -> str | None:
    """None when the file analyses clean, else the analyser's message."""
    try:
        analyzer.analyze_statement(path.read_text())
    except Exception as error:  # the analyser raises its own error types
        return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return None


def main() -> int:
    started = time.perf_counter()
    failures = 0
    for path in sorted((PROJECT / "src" / "recommender_gnn" / "sql").glob("*.sql")):
        message = analyse(build_analyzer(f"{path.stem}_query"), path)
        print(
            f"{'ok  ' if message is None else 'FAIL'} {path.relative_to(PROJECT)}"
            + (f": {message}" if message else "")
        )
        failures += message is not None
    analyzer = build_analyzer(None)
    for path in sorted((HERE / "must_fail").glob("*.sql")):
        message = analyse(analyzer, path)
        rejected = message is not None
        name = path.relative_to(PROJECT)
        if rejected:
            print(f"ok   {name} rejected as expected: {message}")
        else:
            print(f"FAIL {name} was accepted but is broken on purpose")
        failures += not rejected
    print(f"ZetaSQL BigQuery check: {failures} problem(s) in {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

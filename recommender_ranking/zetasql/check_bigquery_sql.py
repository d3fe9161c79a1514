"""Analyse the blueprint's SQL as BigQuery SQL, offline, with Google's ZetaSQL analyser.

DuckDB runs the queries locally after sqlglot's transpilation, which can hide errors that
only BigQuery raises (argument types, DATE vs INT64, functions BigQuery lacks). This script
analyses every ``src/recommender_ranking/sql/*.sql`` against the H&M tables' BigQuery
schemas (``hm_bigquery_schema.json``) with the query parameters typed from
``conf/base/globals.yml`` (``ranking_sql``), and each ``must_fail/*.sql`` too: those are
deliberately broken and must be rejected, which proves the check can fail. Each query whose
result has week 0's key (week, customer_id) is analysed again as BigQuerySplitQueryDataset
runs it on BigQuery in conf/gcp (``split_query``: joined to the chunk of each customer).

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
sys.path.insert(0, str(PROJECT / "src"))
from recommender_ranking.datasets.bigquery_split_sql import PART_COLUMN, split_query  # noqa: E402

WEEK0_KEY = ["week", "customer_id"]
SCALARS = {
    "DATE": TypeKind.TYPE_DATE,
    "STRING": TypeKind.TYPE_STRING,
    "FLOAT64": TypeKind.TYPE_DOUBLE,
    "INT64": TypeKind.TYPE_INT64,
    "BOOL": TypeKind.TYPE_BOOL,
}


def parameter_type(name: str, value) -> Type:
    """BigQuery type of a globals value: int -> INT64, str -> STRING, [int] -> ARRAY<INT64>."""
    if isinstance(value, list):
        return Type(
            type_kind=TypeKind.TYPE_ARRAY,
            array_type=ArrayType(element_type=parameter_type(name, value[0])),
        )
    for python_type, kind in ((bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"), (str, "STRING")):
        if isinstance(value, python_type):
            return Type(type_kind=SCALARS[kind])
    raise TypeError(f"globals ranking_sql.{name} = {value!r} has no BigQuery type")


def resolve(value, globals_: dict):
    """A value written ``${a.b}`` (an interpolation inside globals.yml) -> globals a.b."""
    match = re.fullmatch(r"\$\{([\w.]+)\}", value) if isinstance(value, str) else None
    if not match:
        return value
    for key in match.group(1).split("."):
        globals_ = globals_[key]
    return globals_


def build_analyzer(extra_columns: dict[str, dict[str, str]] | None = None) -> Analyzer:
    language = LanguageOptions.maximum_features()
    language.product_mode = ProductMode.PRODUCT_EXTERNAL
    catalog = CatalogBuilder("bigquery").with_builtin_functions(
        ZetaSQLBuiltinFunctionOptions(language_options=language)
    )
    schemas = json.loads((HERE / "hm_bigquery_schema.json").read_text())
    for table_name, columns in schemas.items():
        if table_name.startswith("_"):
            continue
        table = TableBuilder(table_name)
        for column, bigquery_type in {
            **columns,
            **(extra_columns or {}).get(table_name, {}),
        }.items():
            table.add_column(column, SCALARS[bigquery_type])
        catalog.add_table(table.build())
    globals_ = yaml.safe_load((PROJECT / "conf" / "base" / "globals.yml").read_text())
    parameters = [
        AnalyzerOptions.QueryParameter(
            name=name, type=parameter_type(name, resolve(value, globals_))
        )
        for name, value in globals_["ranking_sql"].items()
    ]
    options = AnalyzerOptions(language_options=language, query_parameters=parameters)
    return Analyzer(options, catalog.build())


def analyse(analyzer: Analyzer, sql: str) -> str | None:
    """None when the SQL analyses clean, else the analyser's message."""
    try:
        analyzer.analyze_statement(sql)
    except Exception as error:  # the analyser raises its own error types
        return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return None


def main() -> int:
    started = time.perf_counter()
    analyzer = build_analyzer()
    week0 = build_analyzer({"customer_weeks": {PART_COLUMN: "STRING"}})
    failures = split = 0
    for path in sorted((PROJECT / "src" / "recommender_ranking" / "sql").glob("*.sql")):
        sql = path.read_text()
        message = analyse(analyzer, sql)
        keyed = (
            message is None
            and analyse(analyzer, f"SELECT {', '.join(WEEK0_KEY)} FROM (\n{sql}\n)") is None
        )
        if keyed:  # as conf/gcp runs it for week 0
            message = analyse(week0, split_query(sql, "customer_weeks", WEEK0_KEY))
            message = f"split for week 0: {message}" if message else None
            split += 1
        print(
            f"{'ok  ' if message is None else 'FAIL'} {path.relative_to(PROJECT)}"
            + (" (and split for week 0)" if keyed and message is None else "")
            + (f": {message}" if message else "")
        )
        failures += message is not None
    if split == 0:
        print("FAIL no query was analysed as the week-0 split: the key check is broken")
        failures += 1
    for path in sorted((HERE / "must_fail").glob("*.sql")):
        message = analyse(analyzer, path.read_text())
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

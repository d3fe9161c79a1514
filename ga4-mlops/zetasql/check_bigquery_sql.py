"""Analyse the feature query as BigQuery SQL, offline, with Google's ZetaSQL analyser.

DuckDB runs ``src/ga4_mlops/sql/user_features.sql`` locally after sqlglot's transpilation,
which hides errors only BigQuery raises (argument types, STRING vs INT64, functions BigQuery
lacks). This script analyses every ``src/ga4_mlops/sql/*.sql`` against the GA4 export as
BigQuery sees it: the table ``events_*`` with the nested fields the raw contract lists
(``GA4_QUERY_FIELDS`` in ``pipelines/feature_extraction/raw_contract.py``, read as data so
the two cannot drift) plus the ``_TABLE_SUFFIX`` pseudo-column, and the named parameters typed
as the SQL's header documents them. Each ``must_fail/*.sql`` is broken on purpose and must be
rejected, which proves the check can fail. What the three blueprints' checks share is in
``bigquery_analysis.py`` (a kit file).

Exit status 0 only when every query passes and every must_fail query is rejected.
"""

import ast
import sys
import time
from pathlib import Path

import bigquery_analysis as bq
import yaml
from zetasql.api import Analyzer, TableBuilder
from zetasql.api.builders import FunctionBuilder
from zetasql.api.type_factory import TypeFactory
from zetasql.types import AnalyzerOptions, FunctionEnums, TypeKind
from zetasql.types.proto_model.generated import (
    FunctionArgumentType,
    FunctionSignature,
    SignatureArgumentKind,
    SimpleColumn,
)

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
CONTRACT = PROJECT / "src" / "ga4_mlops" / "pipelines" / "feature_extraction" / "raw_contract.py"
# The SQL's named parameters (its header): dates travel as 'YYYY-MM-DD' strings.
PARAMETERS = {
    "start_date": "STRING",
    "end_date": "STRING",
    "snapshot_dates": "ARRAY<STRING>",
    "lookback_days": "INT64",
    "horizon_days": "INT64",
    "target_event": "STRING",
    "sample_fraction": "FLOAT64",
    "sample_seed": "INT64",
}


def contract_fields() -> dict[str, str]:
    """GA4_QUERY_FIELDS from raw_contract.py, without importing it (no pandas here)."""
    for node in ast.parse(CONTRACT.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", "") == "GA4_QUERY_FIELDS"
        ):
            return ast.literal_eval(node.value)
    raise LookupError(f"GA4_QUERY_FIELDS not found in {CONTRACT}")


def field_type(path: str, fields: dict[str, str]):
    """The ZetaSQL type of ``path``, its STRUCT and ARRAY members built from the contract."""
    kind = fields[path]
    if kind in ("STRUCT", "ARRAY"):
        prefix = f"{path}."
        children = [
            name for name in fields if name.startswith(prefix) and "." not in name[len(prefix) :]
        ]
        struct = TypeFactory.create_struct_type(
            [(child[len(prefix) :], field_type(child, fields)) for child in children]
        )
        return TypeFactory.create_array_type(struct) if kind == "ARRAY" else struct
    return TypeFactory.create_simple_type(bq.SCALARS[kind])


def literal_parameters() -> dict[str, str]:
    """Any other parameter of globals feature_query, typed from its literal value."""
    globals_ = yaml.safe_load((PROJECT / "conf" / "base" / "globals.yml").read_text())
    kinds = {bool: "BOOL", int: "INT64", float: "FLOAT64", str: "STRING"}
    return {
        name: kinds[type(value)]
        for name, value in globals_["feature_query"].items()
        if type(value) in kinds and not str(value).startswith("${")
    }


def parameter_type(kind: str):
    if kind.startswith("ARRAY<"):
        return TypeFactory.create_array_type(parameter_type(kind[len("ARRAY<") : -1]))
    return TypeFactory.create_simple_type(bq.SCALARS[kind])


def any_argument(kind) -> FunctionArgumentType:
    return FunctionArgumentType(kind=kind)


def max_by_stand_in(name: str):
    """MAX_BY/MIN_BY(value, key) -> value: BigQuery has them, this ZetaSQL build does not."""
    signature = FunctionSignature(
        argument=[
            any_argument(SignatureArgumentKind.ARG_TYPE_ANY_1),
            any_argument(SignatureArgumentKind.ARG_TYPE_ANY_2),
        ],
        return_type=any_argument(SignatureArgumentKind.ARG_TYPE_ANY_1),
    )
    return (
        FunctionBuilder(name, group="BigQuery", mode=FunctionEnums.Mode.AGGREGATE)
        .add_signature(signature)
        .build()
    )


def build_analyzer() -> Analyzer:
    language = bq.bigquery_language()
    catalog = bq.bigquery_catalog(language)
    for name in ("MAX_BY", "MIN_BY"):
        catalog.add_function(max_by_stand_in(name))
    fields = contract_fields()
    events = TableBuilder("events_*")
    for path in fields:
        if "." not in path:
            events.add_column(path, field_type(path, fields))
    table = events.build()
    table.column.append(
        SimpleColumn(
            name="_TABLE_SUFFIX",
            type=TypeFactory.create_simple_type(TypeKind.TYPE_STRING),
            is_pseudo_column=True,
        )
    )
    catalog.add_table(table)
    parameters = [
        AnalyzerOptions.QueryParameter(name=name, type=parameter_type(kind))
        for name, kind in {**literal_parameters(), **PARAMETERS}.items()
    ]
    options = AnalyzerOptions(language_options=language, query_parameters=parameters)
    return Analyzer(options, catalog.build())


def main() -> int:
    started = time.perf_counter()
    analyzer = build_analyzer()
    failures = 0
    queries = sorted((PROJECT / "src" / "ga4_mlops" / "sql").glob("*.sql"))
    for path in queries:
        failures += bq.report(path, PROJECT, bq.analyse(analyzer, path.read_text()))
    failures += bq.check_must_fail(analyzer, HERE / "must_fail", PROJECT)
    return bq.finish(failures, started)


if __name__ == "__main__":
    sys.exit(main())

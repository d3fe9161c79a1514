"""Analyse the blueprint's SQL as BigQuery SQL, offline, with Google's ZetaSQL analyser.

DuckDB runs the queries locally after sqlglot's transpilation, which can hide errors that
only BigQuery raises (argument types, DATE vs INT64, functions BigQuery lacks). This script
analyses every ``src/recommender_gnn/sql/<file>.sql`` against the tables' BigQuery
schemas (``otto_bigquery_schema.json``) with the query parameters typed from its block
``<file>_query`` of ``conf/base/globals.yml`` (the values the catalogs pass), and each
``must_fail/*.sql`` too, without parameters: those are deliberately broken and must be
rejected, which proves the check can fail. What the three blueprints' checks share is in
``bigquery_analysis.py`` (a kit file).

Exit status 0 only when every query passes and every must_fail query is rejected.
"""

import json
import sys
import time
from pathlib import Path

import bigquery_analysis as bq
import yaml
from zetasql.api import Analyzer
from zetasql.types import AnalyzerOptions

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent


def build_analyzer(block: str | None) -> Analyzer:
    """An analyser whose query parameters are the globals block ``block`` (None: none)."""
    language = bq.bigquery_language()
    parameters = []
    if block is not None:
        globals_ = yaml.safe_load((PROJECT / "conf" / "base" / "globals.yml").read_text())
        parameters = bq.globals_parameters(globals_, block)
    schemas = json.loads((HERE / "otto_bigquery_schema.json").read_text())
    options = AnalyzerOptions(language_options=language, query_parameters=parameters)
    return Analyzer(options, bq.bigquery_catalog(language, schemas).build())


def main() -> int:
    started = time.perf_counter()
    failures = 0
    for path in sorted((PROJECT / "src" / "recommender_gnn" / "sql").glob("*.sql")):
        message = bq.analyse(build_analyzer(f"{path.stem}_query"), path.read_text())
        failures += bq.report(path, PROJECT, message)
    failures += bq.check_must_fail(build_analyzer(None), HERE / "must_fail", PROJECT)
    return bq.finish(failures, started)


if __name__ == "__main__":
    sys.exit(main())

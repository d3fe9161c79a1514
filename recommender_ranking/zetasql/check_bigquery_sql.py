"""Analyse the blueprint's SQL as BigQuery SQL, offline, with Google's ZetaSQL analyser.

DuckDB runs the queries locally after sqlglot's transpilation, which can hide errors that
only BigQuery raises (argument types, DATE vs INT64, functions BigQuery lacks). This script
analyses every ``src/recommender_ranking/sql/*.sql`` against the H&M tables' BigQuery
schemas (``hm_bigquery_schema.json``) with the query parameters typed from
``conf/base/globals.yml`` (``ranking_sql``), and each ``must_fail/*.sql`` too: those are
deliberately broken and must be rejected, which proves the check can fail. Each query whose
result has week 0's key (week, customer_id) is analysed again as BigQuerySplitQueryDataset
runs it on BigQuery in conf/gcp (``split_query``: joined to the chunk of each customer). What
the three blueprints' checks share is in ``bigquery_analysis.py`` (a kit file).

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
sys.path.insert(0, str(PROJECT / "src"))
from recommender_ranking.datasets.bigquery_split_sql import PART_COLUMN, split_query  # noqa: E402

WEEK0_KEY = ["week", "customer_id"]


def build_analyzer(extra_columns: dict[str, dict[str, str]] | None = None) -> Analyzer:
    """The H&M tables (plus ``extra_columns`` per table), globals ranking_sql as parameters."""
    language = bq.bigquery_language()
    schemas = json.loads((HERE / "hm_bigquery_schema.json").read_text())
    for table_name, columns in (extra_columns or {}).items():
        schemas[table_name] = {**schemas[table_name], **columns}
    globals_ = yaml.safe_load((PROJECT / "conf" / "base" / "globals.yml").read_text())
    options = AnalyzerOptions(
        language_options=language, query_parameters=bq.globals_parameters(globals_, "ranking_sql")
    )
    return Analyzer(options, bq.bigquery_catalog(language, schemas).build())


def main() -> int:
    started = time.perf_counter()
    analyzer = build_analyzer()
    week0 = build_analyzer({"customer_weeks": {PART_COLUMN: "STRING"}})
    failures = split = 0
    for path in sorted((PROJECT / "src" / "recommender_ranking" / "sql").glob("*.sql")):
        sql = path.read_text()
        message = bq.analyse(analyzer, sql)
        keyed = (
            message is None
            and bq.analyse(analyzer, f"SELECT {', '.join(WEEK0_KEY)} FROM (\n{sql}\n)") is None
        )
        if keyed:  # as conf/gcp runs it for week 0
            message = bq.analyse(week0, split_query(sql, "customer_weeks", WEEK0_KEY))
            message = f"split for week 0: {message}" if message else None
            split += 1
        failures += bq.report(path, PROJECT, message, " (and split for week 0)" if keyed else "")
    if split == 0:
        print("FAIL no query was analysed as the week-0 split: the key check is broken")
        failures += 1
    failures += bq.check_must_fail(analyzer, HERE / "must_fail", PROJECT)
    return bq.finish(failures, started)


if __name__ == "__main__":
    sys.exit(main())

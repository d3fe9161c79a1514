"""The BigQuery statements of ``BigQuerySplitQueryDataset``, as plain functions of strings.

Kept free of third-party imports so that the offline ZetaSQL check (zetasql/, its own
environment) analyses the same split query that BigQuery runs.
"""

PART_COLUMN = "_part"


def table_id(project: str, dataset: str, table: str) -> str:
    return f"`{project}.{dataset}.{table}`"


def setup_script(
    project: str,
    dataset: str,
    source_dataset: str,
    source_tables: list[str],
    partition_table: str,
    partition_uri: str,
    date_columns: list[str],
) -> str:
    """One BigQuery script: the working dataset, a view of each source table in it, and
    ``partition_table`` built from the chunk files under ``partition_uri`` (an external table
    over the parquet files; each row's ``_part`` is its file's name without ``.parquet``, as
    the local split names its parts). ``date_columns`` are cast to DATE: pandas writes dates
    as timestamps."""
    files = table_id(project, dataset, f"{partition_table}_files")
    replace = (
        " REPLACE ("
        + ", ".join(f"CAST({column} AS DATE) AS {column}" for column in date_columns)
        + ")"
        if date_columns
        else ""
    )
    statements = [f"CREATE SCHEMA IF NOT EXISTS `{project}.{dataset}`"]
    statements += [
        f"CREATE OR REPLACE VIEW {table_id(project, dataset, table)} AS "
        f"SELECT * FROM {table_id(project, source_dataset, table)}"
        for table in source_tables
    ]
    statements += [
        f"CREATE OR REPLACE EXTERNAL TABLE {files} "
        f"OPTIONS (format = 'PARQUET', uris = ['{partition_uri}'])",
        f"CREATE OR REPLACE TABLE {table_id(project, dataset, partition_table)} AS "
        f"SELECT *{replace}, REGEXP_EXTRACT(_FILE_NAME, r'([^/]+)[.]parquet$') AS {PART_COLUMN} "
        f"FROM {files}",
    ]
    return ";\n".join(statements) + ";"


def split_query(sql: str, partition_table: str, partition_key: list[str]) -> str:
    """``sql``'s rows, each with the ``_part`` (chunk) of its key in ``partition_table``:
    the BigQuery twin of the DuckDB split in ``DuckDBQueryDataset.write_split``."""
    keys = ", ".join(partition_key)
    body = sql.strip().rstrip(";")
    return (
        f"SELECT _q.*, _p.{PART_COLUMN} FROM (\n{body}\n) AS _q JOIN ("
        f"SELECT DISTINCT {keys}, {PART_COLUMN} FROM {partition_table}) AS _p USING ({keys})"
    )


def part_query(result_table: str) -> str:
    """One chunk of a split result (``@part``: the chunk's name)."""
    return f"SELECT * EXCEPT ({PART_COLUMN}) FROM {result_table} WHERE {PART_COLUMN} = @part"


def parts_query(partition_table: str) -> str:
    return f"SELECT DISTINCT {PART_COLUMN} FROM {partition_table} ORDER BY {PART_COLUMN}"

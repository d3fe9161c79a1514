"""Run a SQL file once on BigQuery for every chunk of customers, and load it chunk by chunk.

Why this exists: kedro-datasets' ``pandas.GBQQueryDataset`` returns a query's whole result as
one frame, and week 0 at the real H&M size is every customer times ~100 candidates (over
130 M rows), more than the recommendations node should hold. This is the BigQuery twin of
``DuckDBQueryDataset`` with ``partition_table``/``partition_key``/``result_directory``
(conf/local/catalog_sql.yml), and it needs no manual step:

1. a script makes the working ``dataset``: a view of each ``source_tables`` table of
   ``source_dataset``, and ``partition_table`` read from the chunk files the pipeline wrote
   to ``partition_uri`` (``recommendation_customers/*.parquet`` on gs://), each row with the
   name of its file (``_part``);
2. the first chunk's loader runs the query once, with the job ``configuration`` (query
   parameters) and the working dataset as default dataset, into the table
   ``<dataset>.<result_prefix><sql file name>``, clustered by ``_part`` when the result has
   ``partition_key`` (else it is one result shared by every chunk, such as article features);
3. each loader reads its chunk's rows (``WHERE _part = @part``), typed as the local dataset
   types them (dates as datetime64, integers with NULLs as float64).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import pandas as pd
from google.cloud import bigquery
from kedro.io.core import AbstractDataset, DatasetError

from .bigquery_split_sql import (
    PART_COLUMN,
    part_query,
    parts_query,
    setup_script,
    split_query,
    table_id,
)
from .duckdb_query_dataset import _normalise_types


class BigQuerySplitQueryDataset(AbstractDataset[None, dict[str, Callable[[], pd.DataFrame]]]):
    """Load ``{chunk: loader}`` for a BigQuery SQL file run once over chunked customers.

    Example (``conf/gcp/catalog_sql.yml``)::

        "recommendation_sql_{query}":
          type: recommender_ranking.datasets.bigquery_split_query_dataset.BigQuerySplitQueryDataset
          filepath: src/recommender_ranking/sql/{query}.sql
          project: my-project
          dataset: hm_recommendation_week
          source_dataset: hm_personalized_fashion
          source_tables: [transactions_train, customers, articles, week_calendar]
          partition_uri: gs://bucket/data/05_model_input/recommendation_customers/*.parquet
          partition_key: [week, customer_id]
          date_columns: [cutoff]
          configuration: {query: {...}}   # as pandas.GBQQueryDataset's load_args
    """

    _prepared: ClassVar[set[tuple[str, ...]]] = set()  # working datasets set up by this process

    def __init__(
        self,
        *,
        filepath: str,
        project: str,
        dataset: str,
        source_dataset: str,
        source_tables: list[str],
        partition_uri: str,
        partition_key: list[str],
        partition_table: str = "customer_weeks",
        date_columns: list[str] | None = None,
        configuration: dict[str, Any] | None = None,
        result_prefix: str = "result_",
        location: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = filepath
        self._project, self._dataset = project, dataset
        self._source_dataset, self._source_tables = source_dataset, list(source_tables)
        self._partition_uri, self._partition_key = partition_uri, list(partition_key)
        self._partition_table = partition_table
        self._date_columns = list(date_columns or [])
        self._configuration = dict(configuration or {})
        self._result_table = f"{result_prefix}{Path(filepath).stem}"
        self._location = location
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "dataset": f"{self._project}.{self._dataset}",
            "partition_uri": self._partition_uri,
        }

    def save(self, data: None) -> NoReturn:
        raise DatasetError(f"BigQuerySplitQueryDataset ({self._filepath}) is read-only")

    def load(self) -> dict[str, Callable[[], pd.DataFrame]]:
        client = bigquery.Client(project=self._project, location=self._location)
        key = (self._project, self._dataset, self._partition_uri)
        if key not in self._prepared:
            script = setup_script(
                self._project,
                self._dataset,
                self._source_dataset,
                self._source_tables,
                self._partition_table,
                self._partition_uri,
                self._date_columns,
            )
            self._run(client, script, "setting up the working dataset")
            type(self)._prepared.add(key)
        partition = table_id(self._project, self._dataset, self._partition_table)
        parts = self._run(client, parts_query(partition), "listing the chunks").to_arrow()
        names = parts.column(PART_COLUMN).to_pylist()
        if not names:
            raise DatasetError(
                f"{self._partition_table} in {self._project}.{self._dataset} has no chunk: "
                f"no parquet file matches {self._partition_uri} (run candidate_generation)"
            )
        result = _SplitResult(self, client)
        return {name: partial(result.part, name) for name in names}

    def job_config(self, catalog: bool = False, **overrides: Any) -> bigquery.QueryJobConfig:
        """The working dataset as default dataset; with ``catalog``, the catalog's job
        configuration too (the query parameters), which only the SQL file's jobs take."""
        resource = {"query": {}, **self._configuration} if catalog else {"query": {}}
        config = bigquery.QueryJobConfig.from_api_repr(resource)
        config.default_dataset = f"{self._project}.{self._dataset}"
        for name, value in overrides.items():
            setattr(config, name, value)
        return config

    def _run(
        self,
        client: bigquery.Client,
        sql: str,
        step: str,
        config: bigquery.QueryJobConfig | None = None,
    ) -> bigquery.QueryJob:
        job = client.query(sql, job_config=config or self.job_config())
        try:
            job.result()
        except Exception as error:  # google.api_core's errors carry BigQuery's message
            raise DatasetError(
                f"BigQuery failed {step} for {self._filepath} "
                f"(working dataset {self._project}.{self._dataset}): {error}"
            ) from error
        return job


class _SplitResult:
    """The loaders of one ``load``: the first one called runs the query, each reads its part."""

    def __init__(self, dataset: BigQuerySplitQueryDataset, client: bigquery.Client) -> None:
        self._dataset, self._client = dataset, client
        self._split: bool | None = None
        self._shared: pd.DataFrame | None = None

    def _run_query(self) -> bool:
        dataset = self._dataset
        sql = Path(dataset._filepath).read_text()
        dry_run = dataset._run(
            self._client, sql, "checking the query", dataset.job_config(catalog=True, dry_run=True)
        )
        split = set(dataset._partition_key) <= {field.name for field in dry_run.schema}
        query = split_query(sql, dataset._partition_table, dataset._partition_key) if split else sql
        destination = f"{dataset._project}.{dataset._dataset}.{dataset._result_table}"
        config = dataset.job_config(
            catalog=True,
            destination=destination,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            clustering_fields=[PART_COLUMN] if split else None,
        )
        dataset._run(self._client, query, "running the query", config)
        return split

    def part(self, name: str) -> pd.DataFrame:
        if self._split is None:
            self._split = self._run_query()
        dataset = self._dataset
        result = table_id(dataset._project, dataset._dataset, dataset._result_table)
        if not self._split:
            if self._shared is None:
                job = dataset._run(self._client, f"SELECT * FROM {result}", "reading the result")
                self._shared = _normalise_types(job.to_arrow(), categorical_strings=False)
            return self._shared.copy()
        config = dataset.job_config(
            query_parameters=[bigquery.ScalarQueryParameter("part", "STRING", name)]
        )
        job = dataset._run(self._client, part_query(result), f"reading chunk {name}", config)
        return _normalise_types(job.to_arrow(), categorical_strings=False)

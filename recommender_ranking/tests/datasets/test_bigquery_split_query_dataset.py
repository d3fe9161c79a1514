"""BigQuerySplitQueryDataset: week 0 on BigQuery, set up, run once and read chunk by chunk.

BigQuery cannot run here, so a recording client stands in for it: it answers each job from
a table of canned results and keeps every job's SQL and configuration for the assertions.
The SQL itself is analysed as BigQuery SQL by the ZetaSQL check (zetasql/)."""

import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from google.cloud import bigquery
from kedro.io.core import AbstractDataset, DatasetError

from recommender_ranking.datasets import bigquery_split_query_dataset as module
from recommender_ranking.datasets.bigquery_split_query_dataset import BigQuerySplitQueryDataset
from tests.kedro_cli import BLUEPRINT

URI = "gs://bucket/data/05_model_input/recommendation_customers/*.parquet"
CONFIGURATION = {
    "query": {
        "useLegacySql": False,
        "defaultDataset": {"projectId": "p", "datasetId": "hm_personalized_fashion"},
        "parameterMode": "NAMED",
        "queryParameters": [
            {"name": "repurchase_top_n", "parameterType": {"type": "INT64"},
             "parameterValue": {"value": "24"}},
        ],
    }
}  # fmt: skip
DAY = datetime.date(2020, 9, 1)
CHUNK_ROWS = {
    "chunk_00000": pa.table({"week": [0], "customer_id": ["a"], "day": [DAY]}),
    "chunk_00001": pa.table({"week": [0, 0], "customer_id": ["b", "c"], "day": [DAY, DAY]}),
}


class RecordingJob:
    def __init__(self, sql, config, bigquery_stand_in):
        self.sql, self.config, self._stand_in = sql, config, bigquery_stand_in

    def result(self):
        if self._stand_in.fail_on and self._stand_in.fail_on in self.sql:
            raise RuntimeError("400 Unrecognized name: custmer_id")
        return self

    @property
    def schema(self):
        return [bigquery.SchemaField(name, "STRING") for name in self._stand_in.result_columns]

    def to_arrow(self):
        if "DISTINCT _part" in self.sql and "ORDER BY" in self.sql:
            return pa.table({"_part": pa.array(self._stand_in.parts, pa.string())})
        if "@part" in self.sql:
            return CHUNK_ROWS[self.config.query_parameters[0].value]
        return pa.table({"article_id": ["0108775015"], "price": pa.array([None], pa.int64())})


class RecordingClient:
    """What the dataset asks of ``bigquery.Client``: ``query`` returning a job."""

    def __init__(self):
        self.jobs = []
        self.parts = ["chunk_00000", "chunk_00001"]
        self.result_columns = ["week", "customer_id", "day"]
        self.fail_on = None

    def query(self, sql, job_config=None):
        job = RecordingJob(sql, job_config, self)
        self.jobs.append(job)
        return job


@pytest.fixture
def client(monkeypatch):
    stand_in = RecordingClient()
    monkeypatch.setattr(module.bigquery, "Client", lambda project, location=None: stand_in)
    monkeypatch.setattr(BigQuerySplitQueryDataset, "_prepared", set())
    return stand_in


def make_dataset(tmp_path, name="candidates_repurchase"):
    sql = tmp_path / f"{name}.sql"
    sql.write_text("-- a query\nSELECT week, customer_id, day FROM customer_weeks\n-- the end\n")
    return BigQuerySplitQueryDataset(
        filepath=str(sql),
        project="p",
        dataset="hm_recommendation_week",
        source_dataset="hm_personalized_fashion",
        source_tables=["transactions_train", "customers"],
        partition_uri=URI,
        partition_key=["week", "customer_id"],
        date_columns=["cutoff"],
        configuration=CONFIGURATION,
    )


def test_sets_up_once_runs_the_query_once_and_reads_each_chunk(client, tmp_path):
    loaders = make_dataset(tmp_path).load()
    assert list(loaders) == ["chunk_00000", "chunk_00001"]
    setup, parts = client.jobs
    assert (
        "CREATE OR REPLACE VIEW `p.hm_recommendation_week.customers` AS "
        "SELECT * FROM `p.hm_personalized_fashion.customers`" in setup.sql
    )
    assert "`p.hm_recommendation_week.transactions_train`" in setup.sql
    assert f"uris = ['{URI}']" in setup.sql
    assert "REPLACE (CAST(cutoff AS DATE) AS cutoff)" in setup.sql
    assert "_FILE_NAME" in setup.sql
    assert not setup.config.query_parameters  # DDL gets no query parameters
    assert "FROM `p.hm_recommendation_week.customer_weeks`" in parts.sql

    second = loaders["chunk_00001"]()
    assert second["customer_id"].tolist() == ["b", "c"]
    assert str(second["day"].dtype) == "datetime64[ns]"  # as the local dataset types dates
    dry_run, query, read = client.jobs[2:]
    assert dry_run.config.dry_run
    assert query.sql.startswith("SELECT _q.*, _p._part FROM (\n-- a query")
    assert "-- the end\n) AS _q JOIN (SELECT DISTINCT week, customer_id, _part" in query.sql
    assert query.config.destination.table_id == "result_candidates_repurchase"
    assert query.config.clustering_fields == ["_part"]
    assert query.config.write_disposition == "WRITE_TRUNCATE"
    for job in (dry_run, query):
        assert str(job.config.default_dataset) == "p.hm_recommendation_week"
        assert [p.name for p in job.config.query_parameters] == ["repurchase_top_n"]
    assert read.sql.endswith("WHERE _part = @part")
    assert read.config.query_parameters[0].value == "chunk_00001"

    assert loaders["chunk_00000"]()["customer_id"].tolist() == ["a"]
    assert len(client.jobs) == 6  # one more read, the query did not run again
    make_dataset(tmp_path, "customer_features").load()
    assert "CREATE SCHEMA" not in " ".join(job.sql for job in client.jobs[6:])


def test_a_result_without_the_key_is_read_once_and_shared(client, tmp_path):
    client.result_columns = ["article_id", "price"]
    loaders = make_dataset(tmp_path, "article_features").load()
    first, second = (loader() for loader in loaders.values())
    assert first.equals(second) and first is not second
    assert first["price"].dtype == "float64"  # an integer column with NULLs, as locally
    query = client.jobs[3]
    assert query.sql.startswith("-- a query") and "_part" not in query.sql
    assert query.config.clustering_fields is None
    assert len(client.jobs) == 5  # setup, chunks, dry run, query, one read


def test_a_bigquery_error_names_the_file_and_the_step(client, tmp_path):
    client.fail_on = "SELECT _q.*"
    loaders = make_dataset(tmp_path).load()
    with pytest.raises(DatasetError) as error:
        loaders["chunk_00000"]()
    message = str(error.value)
    assert "BigQuery failed running the query for" in message
    assert "candidates_repurchase.sql" in message and "p.hm_recommendation_week" in message
    assert "Unrecognized name: custmer_id" in message


def test_no_chunk_file_says_what_to_run(client, tmp_path):
    client.parts = []
    with pytest.raises(DatasetError, match=r"has no chunk: no parquet file matches gs://"):
        make_dataset(tmp_path).load()


def test_week0_chunk_files_carry_timestamps_bigquery_reads(tmp_path):
    """BigQuery's parquet reader takes micro-, not the nanosecond timestamps pandas writes."""
    catalog = yaml.safe_load((BLUEPRINT / "conf/base/catalog_candidate_generation.yml").read_text())
    config = {**catalog["recommendation_customers"], "path": str(tmp_path)}
    chunks = AbstractDataset.from_config("recommendation_customers", config)
    cutoff = pd.to_datetime(["2020-09-16"])
    chunks.save({"chunk_00000": pd.DataFrame({"week": [0], "cutoff": cutoff})})
    schema = pq.read_schema(tmp_path / "chunk_00000.parquet")
    assert schema.field("cutoff").type == pa.timestamp("us")

"""The pipeline on the project's own configuration: local DuckDB run, and the BigQuery request."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from google.cloud import bigquery
from google.cloud.bigquery._job_helpers import _to_query_request
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import GBQQueryDataset

from ga4_mlops.config_resolvers import CUSTOM_RESOLVERS, bq_default_dataset
from ga4_mlops.datasets.duckdb_query_dataset import DuckDBQueryDataset
from ga4_mlops.gcp_resolvers import bq_query_parameters
from ga4_mlops.pipelines.feature_extraction import create_pipeline
from tests.datasets.ga4_events import SQL_FILE, day_range, event, write_daily_tables

PROJECT = Path(__file__).resolve().parents[3]


def config_loader(conf: Path, env: str) -> OmegaConfigLoader:
    return OmegaConfigLoader(
        conf_source=str(conf),
        base_env="base",
        default_run_env="local",
        env=env,
        custom_resolvers=CUSTOM_RESOLVERS,
    )


def events_for_the_configured_window() -> list[dict]:
    """30 users every third day over the globals' window, with purchases in every horizon."""
    days = day_range("2020-11-01", "2021-01-31")
    events = [
        event(f"user-{i:02d}", day, "page_view", session=1000 + number)
        for number, day in enumerate(days)
        for i in range(30)
        if (number + i) % 3 == 0
    ]
    events += [
        event(f"user-{number % 30:02d}", day, "purchase", session=1000 + number, revenue=30.0)
        for number, day in enumerate(days)
        if number % 5 == 0
    ]
    return events


def test_the_pipeline_runs_on_the_local_catalog(tmp_path, monkeypatch):
    shutil.copytree(PROJECT / "conf", tmp_path / "conf")
    (tmp_path / "src" / "ga4_mlops" / "sql").mkdir(parents=True)
    shutil.copy(SQL_FILE, tmp_path / "src" / "ga4_mlops" / "sql" / SQL_FILE.name)
    write_daily_tables(events_for_the_configured_window(), tmp_path / "data/01_raw/ga4_events")
    monkeypatch.chdir(tmp_path)  # Kedro paths are relative to the project root

    config = config_loader(tmp_path / "conf", "local")
    entries = config["catalog"]
    catalog = DataCatalog.from_config(
        {
            name: entries[name]
            for name in ("ga4_events@user_features", "ga4_events@schemas", "model_input_table")
        }
    )
    parameters = config["parameters"]
    for key in ("feature_extraction", "model_input.columns", "model_input.splits"):
        value = parameters
        for part in key.split("."):
            value = value[part]
        catalog[f"params:{key}"] = MemoryDataset(value)

    raw_dataset = catalog.get("ga4_events@user_features")
    assert isinstance(raw_dataset, DuckDBQueryDataset)
    SequentialRunner().run(create_pipeline(), catalog)

    table = pd.read_parquet(tmp_path / "data/05_model_input/model_input_table.parquet")
    globals_config = config["globals"]
    assert sorted(table["snapshot_date"].dt.strftime("%Y-%m-%d").unique()) == sorted(
        globals_config["feature_query"]["snapshot_dates"]
    )
    columns = parameters["model_input"]["columns"]
    assert list(table.columns) == [
        *columns["id"],
        *columns["numeric"],
        *columns["categorical"],
        columns["target"],
        *columns["other_targets"],
    ]
    scoring_dates = parameters["model_input"]["splits"]["dates"]["scoring"]
    scoring = table["snapshot_date"].isin(pd.to_datetime(scoring_dates))
    assert table.loc[scoring, "label"].isna().all()
    assert table.loc[~scoring, "label"].isin([0, 1]).all()
    assert table.loc[~scoring, "label"].sum() > 0
    assert table["revenue_usd_horizon"].isna().tolist() == table["label"].isna().tolist()


def test_the_gcp_catalog_sends_bigquery_a_named_parameter_query(monkeypatch):
    monkeypatch.setenv("GCP_PROJECT_ID", "my-billing-project")
    config = config_loader(PROJECT / "conf", "gcp")
    entry = config["catalog"]["ga4_events@user_features"]
    assert entry["filepath"] == "src/ga4_mlops/sql/user_features.sql"
    assert config["catalog"]["model_input_table"]["filepath"].startswith(
        "gs://my-billing-project-ga4-mlops/"
    )
    monkeypatch.chdir(PROJECT)
    dataset = DataCatalog.from_config({"ga4_events@user_features": entry}).get(
        "ga4_events@user_features"
    )
    assert isinstance(dataset, GBQQueryDataset)

    # What pandas-gbq does with load_args["configuration"] before calling BigQuery.
    load_args = dataset._load_args
    job_config_dict = {"query": {"useLegacySql": load_args.get("dialect") == "legacy"}}
    job_config_dict.update(load_args["configuration"])
    job_config = bigquery.QueryJobConfig.from_api_repr(job_config_dict)
    request = _to_query_request(job_config, query=SQL_FILE.read_text())

    assert entry["project"] == "my-billing-project"
    assert request["useLegacySql"] is False
    assert request["parameterMode"] == "NAMED"
    assert request["defaultDataset"] == {
        "projectId": "bigquery-public-data",
        "datasetId": "ga4_obfuscated_sample_ecommerce",
    }
    assert "FROM `events_*`" in request["query"]
    typed = {parameter.name: parameter for parameter in job_config.query_parameters}
    feature_query = config["globals"]["feature_query"]
    assert set(typed) == set(feature_query)
    assert typed["snapshot_dates"].array_type == "STRING"
    assert typed["snapshot_dates"].values == feature_query["snapshot_dates"]  # noqa: PD011
    assert (typed["lookback_days"].type_, typed["lookback_days"].value) == ("INT64", 28)
    assert (typed["sample_fraction"].type_, typed["sample_fraction"].value) == ("FLOAT64", 1.0)
    assert (typed["target_event"].type_, typed["start_date"].type_) == ("STRING", "STRING")


def test_bq_query_parameters_have_bigquerys_rest_shape():
    parameters = bq_query_parameters(
        {"day": "2021-01-01", "days": ["2021-01-01", "2021-01-08"], "n": 7, "f": 0.5, "b": True}
    )
    assert parameters == [
        {
            "name": "day",
            "parameterType": {"type": "STRING"},
            "parameterValue": {"value": "2021-01-01"},
        },
        {
            "name": "days",
            "parameterType": {"type": "ARRAY", "arrayType": {"type": "STRING"}},
            "parameterValue": {"arrayValues": [{"value": "2021-01-01"}, {"value": "2021-01-08"}]},
        },
        {"name": "n", "parameterType": {"type": "INT64"}, "parameterValue": {"value": "7"}},
        {"name": "f", "parameterType": {"type": "FLOAT64"}, "parameterValue": {"value": "0.5"}},
        {"name": "b", "parameterType": {"type": "BOOL"}, "parameterValue": {"value": "true"}},
    ]
    scalar = bigquery.ScalarQueryParameter.from_api_repr(parameters[2])
    array = bigquery.ArrayQueryParameter.from_api_repr(parameters[1])
    assert (scalar.value, array.values) == (7, ["2021-01-01", "2021-01-08"])  # noqa: PD011


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"days": []}, "query parameter 'days' is an empty list"),
        ({"mixed": [1, "a"]}, r"query parameter 'mixed' mixes types \['INT64', 'STRING'\]"),
    ],
)
def test_bq_query_parameters_refuse_what_bigquery_cannot_type(values, message):
    with pytest.raises(ValueError, match=message):
        bq_query_parameters(values)


def test_bq_default_dataset_splits_a_table_name():
    assert bq_default_dataset("my-project.analytics_123.events_*") == {
        "projectId": "my-project",
        "datasetId": "analytics_123",
    }
    with pytest.raises(ValueError, match=r"must be written project\.dataset\.table"):
        bq_default_dataset("analytics_123.events_*")


def test_the_pipeline_turns_the_raw_query_into_model_input():
    pipeline = create_pipeline()
    assert pipeline.inputs() == {
        "ga4_events@schemas",
        "ga4_events@user_features",
        "params:feature_extraction",
        "params:model_input.columns",
        "params:model_input.splits",
    }
    assert pipeline.outputs() == {"model_input_table"}
    # The raw contract is checked before the query loads.
    order = [node.name for node in pipeline.nodes]
    assert order.index("check_raw_export") < order.index("build_model_input_table")

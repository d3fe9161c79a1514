"""`--params as_of_date=...` reaches the node's parameters and the feature query at once."""

import pytest
from kedro.config import OmegaConfigLoader

from ga4_mlops.settings import CONFIG_LOADER_ARGS
from tests.kedro_cli import BLUEPRINT


def loader(env: str, runtime_params: dict) -> OmegaConfigLoader:
    return OmegaConfigLoader(
        conf_source=str(BLUEPRINT / "conf"),
        env=env,
        runtime_params=runtime_params,
        **CONFIG_LOADER_ARGS,
    )


@pytest.mark.parametrize(
    ("runtime_params", "expected"), [({}, "latest"), ({"as_of_date": "2021-01-25"}, "2021-01-25")]
)
def test_local_query_and_parameters_get_the_same_as_of_date(runtime_params, expected):
    config = loader("local", runtime_params)
    assert config["parameters"]["inference"]["as_of_date"] == expected
    query = config["catalog"]["ga4_events@inference_features"]["query_parameters"]
    assert query["snapshot_dates"] == [expected]
    assert query["sample_fraction"] == 1.0


def test_bigquery_query_gets_the_as_of_date(monkeypatch):
    monkeypatch.setenv("GCP_PROJECT_ID", "blueprint-test-project")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example.com")
    config = loader("gcp", {"as_of_date": "2021-01-25"})
    entry = config["catalog"]["ga4_events@inference_features"]
    parameters = {
        p["name"]: p for p in entry["load_args"]["configuration"]["query"]["queryParameters"]
    }
    assert parameters["snapshot_dates"]["parameterValue"] == {
        "arrayValues": [{"value": "2021-01-25"}]
    }
    window = config["catalog"]["ga4_events@data_window"]["load_args"]["configuration"]["query"]
    assert {p["name"] for p in window["queryParameters"]} == {"start_date", "end_date"}

"""OmegaConf resolvers used in ``conf/``: registered in ``settings.py``."""

import os
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf.resolvers import oc

from ga4_mlops.snapshot_dates import anchored_feature_query, snapshot_splits, snapshot_window

_BIGQUERY_TYPES = {bool: "BOOL", int: "INT64", float: "FLOAT64", str: "STRING"}


def _bigquery_type(value: Any) -> str:
    for python_type, bigquery_type in _BIGQUERY_TYPES.items():
        if type(value) is python_type:
            return bigquery_type
    raise TypeError(f"query parameter value {value!r} has no BigQuery type")


def bq_query_parameters(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Turn ``{name: value}`` into BigQuery's REST ``queryParameters`` list.

    Lets ``conf/gcp`` pass the same named parameters to ``pandas.GBQQueryDataset`` that
    ``conf/local`` passes to DuckDB, without spelling out BigQuery's verbose typed form.
    """
    parameters = []
    for name, value in values.items():
        if isinstance(value, Sequence) and not isinstance(value, str):
            items = list(value)
            if not items:
                raise ValueError(f"query parameter '{name}' is an empty list")
            item_types = {_bigquery_type(item) for item in items}
            if len(item_types) > 1:
                raise ValueError(
                    f"query parameter '{name}' mixes types {sorted(item_types)}: "
                    "a BigQuery ARRAY holds one type"
                )
            parameters.append(
                {
                    "name": name,
                    "parameterType": {"type": "ARRAY", "arrayType": {"type": item_types.pop()}},
                    "parameterValue": {"arrayValues": [{"value": str(item)} for item in items]},
                }
            )
        else:
            parameters.append(
                {
                    "name": name,
                    "parameterType": {"type": _bigquery_type(value)},
                    "parameterValue": {
                        "value": str(value).lower() if isinstance(value, bool) else str(value)
                    },
                }
            )
    return parameters


def bq_default_dataset(table: str) -> dict[str, str]:
    """``project.dataset.table`` -> BigQuery's REST ``defaultDataset`` reference.

    BigQuery cannot take a table name as a query parameter, so the feature query names its
    table unqualified (`events_*`) and ``conf/gcp`` picks the project and dataset holding it
    through the job's default dataset: the GA4 export to read stays a configuration choice.
    """
    parts = str(table).split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            f"BigQuery table '{table}' must be written project.dataset.table "
            "(e.g. bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*)"
        )
    return {"projectId": parts[0], "datasetId": parts[1]}


def required_env(name: str, what: str = "") -> str:
    """The value of environment variable ``name``; an error saying what to set when it is
    unset or empty. ``oc.env`` would accept an empty value (the Dockerfile's default), and a
    missing tracking URI must stop a cloud run, not send it to a throw-away local store."""
    value = os.environ.get(name, "")
    if not value.strip():
        raise ValueError(
            f"Environment variable {name} is not set. Set it{f' to {what}' if what else ''} "
            f"(export {name}=... or the image's build argument, see docs/vertex-ai.md)."
        )
    return value


# oc.env is Kedro's resolver for credentials only; registering it lets conf/gcp read the
# project and bucket from the environment Vertex AI sets, instead of committing them.
CUSTOM_RESOLVERS = {
    "bq_query_parameters": bq_query_parameters,
    "bq_default_dataset": bq_default_dataset,
    "oc.env": oc.env,
    # Snapshot dates from one anchor date (ga4_mlops/snapshot_dates.py).
    "anchored_feature_query": anchored_feature_query,
    "snapshot_splits": snapshot_splits,
    "snapshot_window": snapshot_window,
    "required_env": required_env,
}

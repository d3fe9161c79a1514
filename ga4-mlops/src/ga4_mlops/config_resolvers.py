"""OmegaConf resolvers used in ``conf/``: registered in ``settings.py``."""

from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf.resolvers import oc

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
            parameters.append(
                {
                    "name": name,
                    "parameterType": {
                        "type": "ARRAY",
                        "arrayType": {"type": _bigquery_type(items[0])},
                    },
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


# oc.env is Kedro's resolver for credentials only; registering it lets conf/gcp read the
# project and bucket from the environment Vertex AI sets, instead of committing them.
CUSTOM_RESOLVERS = {"bq_query_parameters": bq_query_parameters, "oc.env": oc.env}

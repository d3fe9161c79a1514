"""OmegaConf resolvers every blueprint's ``conf/gcp`` uses: BigQuery query parameters from the
same named values DuckDB gets, the Google Cloud project and deployment settings found at run
time. ``config_resolvers.py`` adds the blueprint's own and settings.py registers them.
Kit file: kit/files/src/recommender_ranking/gcp_resolvers.py (kit/sync.py).
"""

import functools
import os
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


PROJECT_VARIABLES = ("GCP_PROJECT_ID", "CLOUD_ML_PROJECT_ID", "GOOGLE_CLOUD_PROJECT")


def gcp_project() -> str:
    """The Google Cloud project this run works in, found at run time so that one image serves
    every project: ``GCP_PROJECT_ID`` (a laptop, CI), ``CLOUD_ML_PROJECT_ID`` (set by Vertex AI in
    its jobs), ``GOOGLE_CLOUD_PROJECT``, then the project of the Application Default Credentials
    (the job's service account, or ``gcloud``'s project)."""
    for name in PROJECT_VARIABLES:
        if value := os.environ.get(name, "").strip():
            return value
    project, reason = _credentials_project()
    if project:
        return project
    raise ValueError(
        f"No Google Cloud project: none of {', '.join(PROJECT_VARIABLES)} is set and the "
        f"Application Default Credentials name none ({reason}). Export GCP_PROJECT_ID=... "
        "(see README.md, Vertex AI)."
    )


def _credentials_project() -> tuple[str | None, str]:
    import google.auth  # imported here: only the gcp environment needs it
    from google.auth.exceptions import DefaultCredentialsError

    try:
        return google.auth.default()[1], "they name no project"
    except DefaultCredentialsError as error:
        return None, str(error).splitlines()[0]


@functools.cache
def _settings_file(location: str) -> tuple[dict[str, Any] | None, str]:
    """The deployment settings YAML at ``location`` (read once per process), or why not."""
    import fsspec
    import yaml

    try:
        with fsspec.open(location, "r") as stream:
            settings = yaml.safe_load(stream) or {}
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"
    if not isinstance(settings, dict):
        return None, "it is not a YAML mapping of NAME: value"
    return settings, ""


def deployment_setting(name: str, location: str, what: str = "") -> str:
    """A deployment setting read at run time: the environment variable ``name`` when it is set,
    else the key ``name`` of the YAML file at ``location`` (by default the project bucket's
    ``deployment.yml``), else an error saying both ways to set it.

    Vertex AI steps get no environment of ours (kedro-vertexai 1.0.0 has no per-step
    environment, and its set-up commands run before any), so the image would otherwise have to
    bake the value in at build time and could not serve two projects.
    """
    if value := os.environ.get(name, "").strip():
        return value
    settings, problem = _settings_file(location)
    value = str((settings or {}).get(name) or "").strip()
    if value:
        return value
    problem = problem or f"it has no {name}"
    raise ValueError(
        f"Deployment setting {name} is not set: the environment has no {name} and "
        f"{location} cannot give it ({problem}). Set it{f' to {what}' if what else ''}: "
        f"export {name}=..., or write '{name}: <value>' to {location} (see README.md, Vertex AI)."
    )


# oc.env is Kedro's resolver for credentials only; registering it lets conf/gcp read settings
# from the environment instead of committing them. gcp_project and deployment_setting find the
# project and the MLflow server at run time, so the image carries neither.
GCP_RESOLVERS = {
    "bq_query_parameters": bq_query_parameters,
    "oc.env": oc.env,
    "gcp_project": gcp_project,
    "deployment_setting": deployment_setting,
}

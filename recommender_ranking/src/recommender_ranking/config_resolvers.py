"""OmegaConf resolvers that let ``conf/gcp`` find the project and the deployment settings at run
time, so that one image runs in every project: registered in ``settings.py``."""

import functools
import os
from typing import Any

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

    Vertex AI steps get no environment of ours (kedro-vertexai 1.0.0 passes GCP_PROJECT_ID to a
    step's final ``kedro run`` only; its set-up commands get nothing), so the image would
    otherwise have to bake the value in at build time and could not serve two projects.
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

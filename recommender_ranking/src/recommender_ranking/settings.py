"""Project settings: see https://docs.kedro.org/en/stable/kedro_project_setup/settings.html."""

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # oc.env is Kedro's resolver for credentials only; registering it lets conf/gcp read the
    # project and bucket from the environment Vertex AI sets, instead of committing them.
    "custom_resolvers": {"oc.env": oc.env},
    "config_patterns": {"vertexai": ["vertexai*"]},
    # An environment that overrides one key of a parameters file keeps the others from base.
    "merge_strategy": {"parameters": "soft"},
}

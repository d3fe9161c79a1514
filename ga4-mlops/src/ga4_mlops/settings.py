"""Project settings: see https://docs.kedro.org/en/stable/kedro_project_setup/settings.html."""

import os

from kedro.config import OmegaConfigLoader

# A run loads two OpenMP runtimes (scikit-learn's and the system libgomp that LightGBM links).
# With OpenMP's default spinning wait they slow each other 4-7x on a busy machine (a laptop,
# CI, a shared VM); a bounded spin costs nothing on a quiet one (../docs/conventions.md).
# libgomp reads it when first loaded, which is after this module: the pipelines import
# LightGBM and scikit-learn later. An explicit setting in the environment wins.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

from ga4_mlops.config_resolvers import CUSTOM_RESOLVERS

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": CUSTOM_RESOLVERS,
    "config_patterns": {"vertexai": ["vertexai*"]},
    # An environment that overrides one key of a parameters file keeps the others from base.
    "merge_strategy": {"parameters": "soft"},
}

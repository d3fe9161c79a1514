"""Project settings: see https://docs.kedro.org/en/stable/kedro_project_setup/settings.html."""

import os

from kedro.config import OmegaConfigLoader

# A run loads two OpenMP runtimes (scikit-learn's and the system libgomp that LightGBM links).
# With OpenMP's default spinning wait they slow each other 4-20x as soon as another process
# wants the CPU (a laptop, CI, a shared VM). Passive waiting removes that loss at a cost of
# about half again on a quiet machine; a bounded spin (GOMP_SPINCOUNT=10000) is free when quiet
# but no help under heavy load (measured: README, "Busy machines"). Robust beats fast here.
# libgomp reads the variables once, when first loaded, which is after this module (the
# pipelines import LightGBM and scikit-learn later; a test checks it). The Makefile, the
# Dockerfile (so Vertex AI steps) and the dev container set the same; an explicit
# OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment wins.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "passive"

from ga4_mlops.config_resolvers import CUSTOM_RESOLVERS
from ga4_mlops.quiet_warnings import filter_third_party_warnings
from ga4_mlops.run_hooks import KnownEnvironmentHook, MissingInputsHook, PatternDatasetsHook

# Google's and Kedro's notices repeated on every run (quiet_warnings.py); set before the run
# loads the datasets and clients that raise them.
filter_third_party_warnings()

# An unknown --env stops the run with the environments that exist; pattern datasets exist
# before the run (kedro-vertexai's runner pickles the others); a missing input that another
# pipeline writes is named with that pipeline before any node runs (run_hooks.py).
HOOKS = (KnownEnvironmentHook(), PatternDatasetsHook(), MissingInputsHook())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": CUSTOM_RESOLVERS,
    "config_patterns": {"vertexai": ["vertexai*"]},
    # An environment that overrides one key of a parameters file keeps the others from base.
    "merge_strategy": {"parameters": "soft"},
}

"""Project settings: see https://docs.kedro.org/en/stable/kedro_project_setup/settings.html."""

from kedro.config import OmegaConfigLoader

from recommender_gnn.config_resolvers import CUSTOM_RESOLVERS
from recommender_gnn.hooks import NodeProfileHooks
from recommender_gnn.openmp import wait_passively
from recommender_gnn.quiet_warnings import filter_third_party_warnings
from recommender_gnn.run_hooks import (
    KnownEnvironmentHook,
    MissingInputsHook,
    PatternDatasetsHook,
)

# Google's and Kedro's notices repeated on every run (quiet_warnings.py); set before the run
# loads the datasets and clients that raise them.
filter_third_party_warnings()

# OpenMP waits passively before torch is imported (openmp.py): the fastest setting for the GNN's
# small training steps on a loaded and a more loaded 2-core machine (README, "Measured figures").
wait_passively()

# Per-node seconds and peak memory when RECOMMENDER_GNN_NODE_PROFILE names a CSV file (hooks.py);
# an unknown --env stops the run with the environments that exist; pattern datasets exist
# before the run (kedro-vertexai's runner pickles the others); a missing input that another
# pipeline writes is named with that pipeline before any node runs (run_hooks.py).
HOOKS = (NodeProfileHooks(), KnownEnvironmentHook(), PatternDatasetsHook(), MissingInputsHook())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": CUSTOM_RESOLVERS,
    "config_patterns": {"vertexai": ["vertexai*"]},
    # An environment that overrides one key of a parameters file keeps the others from base.
    "merge_strategy": {"parameters": "soft"},
}

"""Project settings: see https://docs.kedro.org/en/stable/kedro_project_setup/settings.html."""

import os

from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf
from omegaconf.resolvers import oc

from recommender_ranking.config_resolvers import deployment_setting, gcp_project
from recommender_ranking.hooks import PatternDatasetsHook
from recommender_ranking.quiet_warnings import filter_third_party_warnings

# Google's and Kedro's notices repeated on every run (quiet_warnings.py); set before the run
# loads the datasets and clients that raise them.
filter_third_party_warnings()

# Pattern datasets exist before the run: kedro-vertexai's runner pickles the others (hooks.py).
HOOKS = (PatternDatasetsHook(),)

# OpenMP threads that wait for work spin by default; with LightGBM, scikit-learn and torch each
# bringing an OpenMP runtime into one process, spinning threads steal the cores the others
# need on a busy machine (README, "Busy machines"). A bounded spin
# costs nothing on a quiet machine. Set before any of those libraries is imported (settings are
# read before the pipelines); an explicit value in the environment wins.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")


def merge_mappings(*mappings) -> dict:
    """``${merge:a,b}``: b's keys over a's (nested), so a catalog entry can take globals
    ``ranking_sql`` with the run's ``--params ranking_sql.<key>=`` over it (runtime_params
    cannot be used inside globals)."""
    return OmegaConf.to_container(OmegaConf.merge(*mappings), resolve=True)


CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # oc.env is Kedro's resolver for credentials only; registering it lets conf/gcp read settings
    # from the environment instead of committing them. gcp_project and deployment_setting
    # (config_resolvers.py) find the project and the MLflow server at run time, so the image
    # carries neither.
    "custom_resolvers": {
        "oc.env": oc.env,
        "merge": merge_mappings,
        "gcp_project": gcp_project,
        "deployment_setting": deployment_setting,
    },
    "config_patterns": {"vertexai": ["vertexai*"]},
    # An environment that overrides one key of a parameters file keeps the others from base.
    "merge_strategy": {"parameters": "soft"},
}

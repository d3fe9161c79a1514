"""OmegaConf resolvers used in ``conf/``: registered in ``settings.py``: the ones every
blueprint's ``conf/gcp`` shares (gcp_resolvers.py, a kit file) and ``merge``."""

from omegaconf import OmegaConf

from recommender_ranking.gcp_resolvers import GCP_RESOLVERS


def merge_mappings(*mappings) -> dict:
    """``${merge:a,b}``: b's keys over a's (nested), so a catalog entry can take globals
    ``ranking_sql`` with the run's ``--params ranking_sql.<key>=`` over it (runtime_params
    cannot be used inside globals)."""
    return OmegaConf.to_container(OmegaConf.merge(*mappings), resolve=True)


CUSTOM_RESOLVERS = {**GCP_RESOLVERS, "merge": merge_mappings}

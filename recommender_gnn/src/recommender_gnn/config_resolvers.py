"""OmegaConf resolvers used in ``conf/``: registered in ``settings.py``. recommender_gnn needs
only the ones every blueprint's ``conf/gcp`` shares (gcp_resolvers.py, a kit file)."""

from recommender_gnn.gcp_resolvers import GCP_RESOLVERS

CUSTOM_RESOLVERS = {**GCP_RESOLVERS}

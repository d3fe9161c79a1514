"""OmegaConf resolvers used in ``conf/``: registered in ``settings.py``: the ones every
blueprint's ``conf/gcp`` shares (gcp_resolvers.py, a kit file), the GA4 export's default
dataset and the snapshot dates (snapshot_dates.py)."""

from ga4_mlops.gcp_resolvers import GCP_RESOLVERS
from ga4_mlops.snapshot_dates import anchored_feature_query, snapshot_splits, snapshot_window


def bq_default_dataset(table: str) -> dict[str, str]:
    """``project.dataset.table`` -> BigQuery's REST ``defaultDataset`` reference.

    BigQuery cannot take a table name as a query parameter, so the feature query names its
    table unqualified (`events_*`) and ``conf/gcp`` picks the project and dataset holding it
    through the job's default dataset: the GA4 export to read stays a configuration choice.
    """
    parts = str(table).split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            f"BigQuery table '{table}' must be written project.dataset.table "
            "(e.g. bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*)"
        )
    return {"projectId": parts[0], "datasetId": parts[1]}


CUSTOM_RESOLVERS = {
    **GCP_RESOLVERS,
    "bq_default_dataset": bq_default_dataset,
    # Snapshot dates from one anchor date (ga4_mlops/snapshot_dates.py).
    "anchored_feature_query": anchored_feature_query,
    "snapshot_splits": snapshot_splits,
    "snapshot_window": snapshot_window,
}

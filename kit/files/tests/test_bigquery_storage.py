"""BigQuery results come through the Storage Read API (issue: slow REST pages for large
results): every query dataset of the gcp environment asks for it, and its client is locked."""

import importlib.util
from pathlib import Path

import yaml

GCP = Path(__file__).resolve().parents[1] / "conf" / "gcp"


def _query_datasets() -> dict[str, dict]:
    datasets = {}
    for path in sorted(GCP.glob("catalog*.yml")):
        for name, entry in (yaml.safe_load(path.read_text()) or {}).items():
            query = isinstance(entry, dict) and entry.get("type") == "pandas.GBQQueryDataset"
            if query and not name.startswith("_"):  # "_name": a YAML anchor, not a dataset
                datasets[f"{path.name}:{name}"] = entry
    return datasets


def test_every_bigquery_query_reads_through_the_storage_api():
    datasets = _query_datasets()
    assert datasets, "no pandas.GBQQueryDataset in conf/gcp"
    slow = [name for name, entry in datasets.items()
            if not (entry.get("load_args") or {}).get("use_bqstorage_api")]  # fmt: skip
    assert not slow, f"load_args.use_bqstorage_api is not true for {slow}"


def test_the_storage_api_client_is_installed():
    assert importlib.util.find_spec("google.cloud.bigquery_storage") is not None

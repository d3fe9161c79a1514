"""Optional raw inputs load as empty when absent, and as written when present."""

import pandas as pd
import yaml
from kedro.io import DataCatalog

from tests.kedro_cli import BLUEPRINT


def _catalog(tmp_path) -> DataCatalog:
    entries = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "catalog_data_generation.yml").read_text()
    )
    oracle = {**entries["oracle_recommendations"], "filepath": str(tmp_path / "oracle.parquet")}
    images = {**entries["raw_article_images"], "path": str(tmp_path / "images")}
    return DataCatalog.from_config({"oracle": oracle, "images": images})


def test_missing_oracle_and_images_load_empty(tmp_path):
    catalog = _catalog(tmp_path)
    oracle = catalog.load("oracle")
    assert oracle.empty
    assert list(oracle.columns) == ["customer_id", "article_id", "probability", "rank"]
    assert catalog.load("images") == {}


def test_written_oracle_loads_back(tmp_path):
    catalog = _catalog(tmp_path)
    frame = pd.DataFrame(
        {"customer_id": ["c"], "article_id": ["0108775015"], "probability": [0.5], "rank": [1]}
    )
    catalog.save("oracle", frame)
    pd.testing.assert_frame_equal(catalog.load("oracle"), frame)

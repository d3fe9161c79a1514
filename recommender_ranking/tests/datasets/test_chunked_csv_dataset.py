"""Chunks make one CSV (one header, Kaggle's plain layout); a failed save keeps the old file."""

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from kedro.io import DataCatalog, DatasetError

from recommender_ranking.datasets.chunked_csv_dataset import ChunkedCSVDataset
from tests.kedro_cli import BLUEPRINT


def _catalog_dataset(path) -> ChunkedCSVDataset:
    entry = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "catalog_data_generation.yml").read_text()
    )["raw_transactions"]
    entry["filepath"] = str(path)
    return DataCatalog.from_config({"raw_transactions": entry})["raw_transactions"]


def _week(day: str, ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t_dat": pd.to_datetime([day] * len(ids)),
            "customer_id": pd.Categorical(ids),
            "article_id": pd.arrays.ArrowExtensionArray(pa.array(["0108775015"] * len(ids))),
            "price": [0.0508305084745762] * len(ids),
            "sales_channel_id": [2] * len(ids),
        }
    )


def test_chunks_make_one_plain_csv_that_loads_back(tmp_path):
    path = tmp_path / "transactions_train.csv"
    dataset = _catalog_dataset(path)
    dataset.save(_week(day, ["a" * 64, "b" * 64]) for day in ("2020-09-21", "2020-09-22"))
    lines = path.read_text().splitlines()
    assert lines[0] == "t_dat,customer_id,article_id,price,sales_channel_id"
    assert lines[1] == f"2020-09-21,{'a' * 64},0108775015,0.0508305084745762,2"
    assert len(lines) == 5 and lines[4].startswith("2020-09-22,")
    loaded = dataset.load()
    assert loaded["article_id"].tolist() == ["0108775015"] * 4  # the leading zero survives
    assert not list(tmp_path.glob("*.partial"))


def test_a_failed_save_keeps_the_earlier_file(tmp_path):
    path = tmp_path / "transactions_train.csv"
    dataset = _catalog_dataset(path)
    dataset.save(_week("2020-09-22", ["a" * 64]))
    before = path.read_text()

    def chunks():
        yield _week("2020-09-22", ["b" * 64])
        raise RuntimeError("simulation failed")

    with pytest.raises(DatasetError, match="simulation failed"):
        dataset.save(chunks())
    assert path.read_text() == before
    assert not list(tmp_path.glob("*.partial"))
    with pytest.raises(DatasetError, match=r"transactions_train\.csv: every chunk must have"):
        dataset.save([_week("2020-09-22", ["c"]), _week("2020-09-22", ["d"]).drop(columns="price")])
    assert path.read_text() == before

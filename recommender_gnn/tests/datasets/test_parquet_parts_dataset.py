"""A Parquet folder written chunk by chunk: appends within a run, starts anew in the next."""

import pandas as pd

from recommender_gnn.datasets.parquet_parts_dataset import ParquetPartsDataset


def test_chunks_append_and_a_new_run_replaces_them(tmp_path):
    folder = tmp_path / "oracle.parquet"
    first_run = ParquetPartsDataset(filepath=str(folder))
    for value in (1, 2, 3):
        first_run.save(pd.DataFrame({"x": [value]}))
    assert ParquetPartsDataset(filepath=str(folder)).load()["x"].tolist() == [1, 2, 3]
    ParquetPartsDataset(filepath=str(folder)).save(pd.DataFrame({"x": [9]}))
    assert ParquetPartsDataset(filepath=str(folder)).load()["x"].tolist() == [9]
    assert pd.read_parquet(folder)["x"].tolist() == [9]  # pandas reads the folder as one table


def test_optional_missing_folder_loads_empty_with_its_columns(tmp_path):
    empty = ParquetPartsDataset(
        filepath=str(tmp_path / "absent"), optional=True, columns={"session": "int64"}
    ).load()
    assert empty.empty
    assert empty.dtypes.to_dict() == {"session": "int64"}


def test_remote_folder_through_fsspec():
    dataset = ParquetPartsDataset(filepath="memory://bucket/oracle.parquet")
    dataset.save(pd.DataFrame({"x": [1]}))
    dataset.save(pd.DataFrame({"x": [2]}))
    assert ParquetPartsDataset(filepath="memory://bucket/oracle.parquet").load()["x"].tolist() == [
        1,
        2,
    ]

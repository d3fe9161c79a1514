"""A PartitionedDataset that loads an empty or missing folder as no partitions.

Why a class of our own: kedro-datasets' ``partitions.PartitionedDataset`` raises "No partitions
found" on an empty folder, but the H&M images are optional (the real competition data can be
used without its 30 GB of pictures, and not every article has one). Everything else, lazy
saving included, is PartitionedDataset's.
"""

from collections.abc import Callable
from typing import Any

from kedro.io import DatasetError
from kedro_datasets.partitions import PartitionedDataset


class OptionalPartitionedDataset(PartitionedDataset):
    def load(self) -> dict[str, Callable[[], Any]]:
        try:
            return super().load()
        except DatasetError as error:
            if "No partitions found" not in str(error):
                raise
            return {}

"""Datasets for inputs that real data may not have: they load as empty instead of failing.

Why classes of our own: kedro-datasets raises when a file or folder is missing, but two raw
inputs are optional. The H&M images (the real competition data can be used without its 30 GB of
pictures, and not every article has one), and the oracle, which only the generator can write
(its true probabilities do not exist for real data). Everything else, saving included, is the
kedro-datasets parent's.
"""

from collections.abc import Callable
from typing import Any

import pandas as pd
from kedro.io import DatasetError
from kedro_datasets.pandas import ParquetDataset
from kedro_datasets.partitions import PartitionedDataset


class OptionalPartitionedDataset(PartitionedDataset):
    """A PartitionedDataset that loads an empty or missing folder as no partitions."""

    loads_when_missing = True  # run_hooks.MissingInputsHook leaves it alone

    def load(self) -> dict[str, Callable[[], Any]]:
        try:
            return super().load()
        except DatasetError as error:
            if "No partitions found" not in str(error):
                raise
            return {}


class OptionalParquetDataset(ParquetDataset):
    """A ParquetDataset that loads a missing file as an empty frame with ``columns``."""

    loads_when_missing = True  # run_hooks.MissingInputsHook leaves it alone

    def __init__(self, *, columns: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._empty_columns = list(columns)

    def load(self) -> pd.DataFrame:
        if not self.exists():
            return pd.DataFrame(columns=self._empty_columns)
        return super().load()

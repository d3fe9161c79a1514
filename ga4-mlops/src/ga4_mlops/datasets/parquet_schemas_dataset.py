"""The Arrow schema of every Parquet file matching a glob, read from the footers only.

kedro-datasets has no dataset that returns file schemas without reading the data, and the raw
export contract (``pipelines/feature_extraction/raw_contract.py``) must check every daily
file before the feature query reads them: a full load of 92 nested files to look at their
column types would cost as much as the query. Read-only; works on any fsspec path (gs://).
"""

from pathlib import PurePosixPath
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from kedro.io import AbstractDataset, DatasetError


class ParquetSchemasDataset(AbstractDataset[None, dict[str, pa.Schema]]):
    """``{file name: schema}`` for the files of ``filepath`` (a glob), sorted by name."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = filepath
        self._protocol = fsspec.utils.get_protocol(filepath)
        self._fs = fsspec.filesystem(self._protocol)
        self.metadata = metadata

    def load(self) -> dict[str, pa.Schema]:
        paths = sorted(self._fs.glob(self._filepath))
        schemas = {}
        for path in paths:
            with self._fs.open(path, "rb") as file:
                schemas[PurePosixPath(path).name] = pq.read_schema(file)
        return schemas

    def save(self, data: None) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only ({self._filepath})")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}

    def _exists(self) -> bool:
        return bool(self._fs.glob(self._filepath))

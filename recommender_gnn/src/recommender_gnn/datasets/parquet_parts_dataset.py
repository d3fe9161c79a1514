"""A Parquet table written as a folder of parts, one per saved chunk.

Why this exists: a generator node (``yield``) saves its output chunk by chunk. kedro-datasets'
``pandas.ParquetDataset`` overwrites the file on every save and ``partitions.PartitionedDataset``
either keeps stale partitions of an earlier, bigger run or (``overwrite: true``) deletes the
chunks written a moment before. Here the first save of the dataset object clears the folder's
parts and each save adds ``part-NNNNN.parquet``; pandas and DuckDB read the folder as one table.
``optional: true`` loads an empty table with ``columns`` when the folder does not exist (the
oracle only exists for generated data).
"""

from __future__ import annotations

from typing import Any

import fsspec
import pandas as pd
from kedro.io.core import AbstractDataset, DatasetError


class ParquetPartsDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Append-by-chunk Parquet folder (``<filepath>/part-00000.parquet``, ...)."""

    def __init__(
        self,
        *,
        filepath: str,
        optional: bool = False,
        columns: dict[str, str] | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = str(filepath).rstrip("/")
        self._optional = optional
        self.loads_when_missing = optional  # run_hooks.MissingInputsHook leaves it alone
        self._columns = dict(columns or {})
        self._fs, self._path = fsspec.core.url_to_fs(self._filepath, **(credentials or {}))
        self._parts_written = 0
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "optional": self._optional}

    def _exists(self) -> bool:
        return bool(self._parts())

    def _parts(self) -> list[str]:
        if not self._fs.isdir(self._path):
            return []
        return sorted(p for p in self._fs.ls(self._path, detail=False) if p.endswith(".parquet"))

    def load(self) -> pd.DataFrame:
        parts = self._parts()
        if not parts:
            if self._optional:
                return pd.DataFrame(
                    {name: pd.Series(dtype=dtype) for name, dtype in self._columns.items()}
                )
            raise DatasetError(
                f"{self._filepath} has no parquet parts: run the pipeline that writes it"
            )
        frames = []
        for part in parts:
            with self._fs.open(part, "rb") as file:
                frames.append(pd.read_parquet(file))
        return pd.concat(frames, ignore_index=True)

    def save(self, data: pd.DataFrame) -> None:
        if self._parts_written == 0:
            for part in self._parts():
                self._fs.rm(part)
            self._fs.mkdirs(self._path, exist_ok=True)
        with self._fs.open(f"{self._path}/part-{self._parts_written:05d}.parquet", "wb") as file:
            data.to_parquet(file, index=False)
        self._parts_written += 1

"""The footer of every Parquet file matching a glob: schema, row count and days held.

kedro-datasets has no dataset that returns file metadata without reading the data, and the raw
export contract (``pipelines/feature_extraction/raw_contract.py``) must check every daily
file before the feature query reads them: a full load of 92 nested files to look at their
column types would cost as much as the query. The footer also gives each file's row count and,
from the ``event_date`` column statistics, the days it holds: what the contract needs to find
an empty day file or a day held by two files. Read-only; works on any fsspec path (gs://).

A file whose footer cannot be read (not Parquet, truncated) fails the load with every such
file named: DuckDB, reading ``events_*.parquet``, would say "magic bytes not found" without
saying which file.
"""

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from kedro.io import AbstractDataset, DatasetError

DAY_COLUMN = "event_date"


@dataclass(frozen=True)
class ParquetFooter:
    """What the footer of one file says: its schema, its rows and its ``event_date`` range."""

    schema: pa.Schema
    num_rows: int
    # (min, max) of event_date over the file, None when the file has no rows or no such column.
    event_dates: tuple[str, str] | None


def _event_date_range(metadata: pq.FileMetaData, file: Any) -> tuple[str, str] | None:
    """Min and max of ``event_date``: from the column statistics, else from the column."""
    if metadata.num_rows == 0 or DAY_COLUMN not in metadata.schema.names:
        return None
    lows, highs = [], []
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        column = next(
            (
                row_group.column(index)
                for index in range(row_group.num_columns)
                if row_group.column(index).path_in_schema == DAY_COLUMN
            ),
            None,
        )
        if column is None:  # not a plain column: the schema check names its type
            return None
        statistics = column.statistics
        if statistics is None or not statistics.has_min_max:
            break
        lows.append(statistics.min)
        highs.append(statistics.max)
    else:
        return str(min(lows)), str(max(highs))
    # A writer that left out statistics: read that one column (strings, a few KB a day).
    file.seek(0)
    days = pq.read_table(file, columns=[DAY_COLUMN]).column(DAY_COLUMN).drop_null()
    if len(days) == 0:
        return None
    bounds = pc.min_max(days)
    return str(bounds["min"]), str(bounds["max"])


class ParquetSchemasDataset(AbstractDataset[None, dict[str, ParquetFooter]]):
    """``{file name: ParquetFooter}`` for the files of ``filepath`` (a glob), sorted by name."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = filepath
        self._protocol = fsspec.utils.get_protocol(filepath)
        self._fs = fsspec.filesystem(self._protocol)
        self.metadata = metadata

    def load(self) -> dict[str, ParquetFooter]:
        paths = sorted(self._fs.glob(self._filepath))
        footers, unreadable = {}, []
        for path in paths:
            name = PurePosixPath(path).name
            with self._fs.open(path, "rb") as file:
                try:
                    metadata = pq.read_metadata(file)
                except (pa.ArrowException, OSError) as error:
                    unreadable.append(f"{name} ({error})")
                    continue
                footers[name] = ParquetFooter(
                    schema=metadata.schema.to_arrow_schema(),
                    num_rows=metadata.num_rows,
                    event_dates=_event_date_range(metadata, file),
                )
        if unreadable:
            raise DatasetError(
                f"{len(unreadable)} file(s) of {self._filepath} are not readable Parquet (no "
                f"valid footer): {'; '.join(unreadable)}. Each day file must be the Parquet "
                "export of that day: replace or remove these files"
            )
        return footers

    def save(self, data: None) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only ({self._filepath})")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}

    def _exists(self) -> bool:
        return bool(self._fs.glob(self._filepath))

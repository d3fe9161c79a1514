"""A CSV file saved from an iterable of DataFrames, one chunk at a time (loads like pandas').

Why a class of our own: kedro-datasets' CSV datasets save one DataFrame, and the generator's
full-size ``transactions_train.csv`` (31.8 M rows, 64-character customer ids) would need about
10 GB as one pandas frame and half an hour of ``to_csv``. Kedro's generator nodes save each
chunk through the dataset in append mode instead, which keeps the rows of an earlier run,
repeats the header and needs every output of the node to be chunked (the generator node has
five). This dataset takes a DataFrame or any iterable of DataFrames with the same columns,
writes them with pyarrow's CSV writer into a temporary file next to the target and moves it into
place only when complete: a failed run leaves the earlier file as it was. Loading is the
kedro-datasets parent's (``load_args`` as for ``pandas.CSVDataset``).

Columns are written as pyarrow renders them (``date32`` as ``YYYY-MM-DD``, categorical columns
as their values); datetime columns follow ``save_args.date_format`` as in ``pandas.to_csv``.
"""

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from kedro.io.core import get_filepath_str
from kedro_datasets.pandas import CSVDataset


class ChunkedCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` whose ``save`` also streams an iterable of DataFrames.

    ``save_args``: ``quoting_style`` (pyarrow's ``needed``, ``all_valid`` or ``none``; default
    ``needed``), ``batch_size`` (rows per write) and ``date_format`` (strftime). The header is
    never quoted.
    """

    def __init__(self, *, save_args: dict[str, Any] | None = None, **kwargs: Any) -> None:
        save_args = dict(save_args or {})
        self._date_format = save_args.pop("date_format", None)
        self._write_options = pa_csv.WriteOptions(
            include_header=False,
            quoting_style=save_args.pop("quoting_style", "needed"),
            batch_size=int(save_args.pop("batch_size", 65536)),
        )
        super().__init__(save_args=save_args, **kwargs)

    def save(self, data: pd.DataFrame | Iterable[pd.DataFrame]) -> None:
        chunks = [data] if isinstance(data, pd.DataFrame) else data
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        partial_path = f"{save_path}.partial"
        self._fs.mkdirs(str(PurePosixPath(save_path).parent), exist_ok=True)
        schema: pa.Schema | None = None
        try:
            with self._fs.open(partial_path, mode="wb") as handle:
                writer = None
                for chunk in chunks:
                    table = _plain_table(chunk, self._date_format)
                    if writer is None:
                        schema = table.schema
                        handle.write((",".join(schema.names) + "\n").encode())
                        writer = pa_csv.CSVWriter(handle, schema, write_options=self._write_options)
                    elif table.column_names != schema.names:
                        raise ValueError(
                            f"{self._filepath}: every chunk must have the columns "
                            f"{schema.names}; got {table.column_names}"
                        )
                    writer.write_table(table.cast(schema))
                if writer is None:
                    raise ValueError(f"{self._filepath}: nothing to save (no chunk given)")
                writer.close()
            self._fs.mv(partial_path, save_path)
        except BaseException:
            if self._fs.exists(partial_path):
                self._fs.rm(partial_path)
            raise
        self._invalidate_cache()


def _plain_table(frame: pd.DataFrame, date_format: str | None) -> pa.Table:
    """The frame as an Arrow table: dictionary (categorical) columns decoded, datetimes
    formatted with ``date_format`` when one is given."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_dictionary(field.type):
            column = pc.cast(column, field.type.value_type)
        if date_format and pa.types.is_timestamp(column.type):
            column = pc.strftime(column, format=date_format)
        table = table.set_column(index, field.name, column)
    return table

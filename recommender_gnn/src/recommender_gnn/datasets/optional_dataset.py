"""A file the generator writes but Kaggle's real data does not have, loaded empty when absent.

``santander_test_labels`` and ``santander_oracle`` exist only for generated data: on the real
``train_ver2.csv``/``test_ver2.csv`` (``kedro run --pipelines=banking_end_to_end``) they are
missing, and the report leaves out what needs them. Wraps any file dataset (``dataset``, as in
a catalog entry); ``load()`` returns an empty table with ``columns`` when the file does not
exist. ``loads_when_missing``: run_hooks.MissingInputsHook leaves it alone, as the OTTO side's
optional labels and oracle (OttoJsonlDataset, ParquetPartsDataset ``optional: true``).
kedro-datasets has no "empty when absent" wrapper (its datasets raise on a missing file).

Example catalog entry::

    santander_test_labels:
      type: recommender_gnn.datasets.optional_dataset.OptionalDataset
      dataset: {type: pandas.CSVDataset, filepath: data/01_raw/santander/test_labels.csv}
      columns: {ncodpers: object, added_products: object}
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from kedro.io.core import AbstractDataset

logger = logging.getLogger(__name__)


class OptionalDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """``dataset`` when its file exists, else an empty frame with ``columns`` (name: dtype)."""

    loads_when_missing = True

    def __init__(
        self,
        *,
        dataset: dict[str, Any],
        columns: dict[str, str],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._dataset = AbstractDataset.from_config("optional", dict(dataset))
        self._columns = dict(columns)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {**self._dataset._describe(), "optional": True}

    def _exists(self) -> bool:
        return self._dataset.exists()

    def load(self) -> pd.DataFrame:
        if not self._dataset.exists():
            where = self._dataset._describe().get("filepath")
            logger.info("%s does not exist: loaded as an empty table", where)
            return pd.DataFrame(
                {name: pd.Series(dtype=dtype) for name, dtype in self._columns.items()}
            )
        return self._dataset.load()

    def save(self, data: pd.DataFrame) -> None:
        self._dataset.save(data)

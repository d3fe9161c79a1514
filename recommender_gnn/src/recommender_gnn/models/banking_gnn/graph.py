"""The customer-product graph of one target month m, built from months < m and the attributes
of month m only, so that nothing of the month being predicted leaks into its inputs.

Nodes: the customers present in m-1 and the 24 products. Edges: product -> customer wherever
the customer held the product in any of the months m-1 .. m-L; each edge carries the L flags
"held in m-k" (k = 1..L), so "held since", "added last month" (1, 0, ..) and "dropped last
month" (0, 1, ..) are one edge each rather than L edge types. Customer features: the month-m
attributes (numbers standardised with a missing flag, categories one-hot over their most
frequent values) and whether the customer was present in each lagged month.

Arrays are per edge and per customer; the only [customers x products] arrays are int8 flags,
the size of the typed table's own product columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns
from recommender_gnn.pipelines.banking_data.contract import PRODUCTS

N_PRODUCTS = len(PRODUCTS)
# name -> (column, transform): standardised, NaN -> the mean plus a missing flag
NUMERIC = {
    "age": ("age", lambda v: np.clip(v, 0, 100)),
    "antiguedad": ("antiguedad", lambda v: np.clip(v, 0, 300)),  # the real file has -999999
    "log_renta": ("renta", lambda v: np.log1p(np.clip(v, 0, None))),
    "ind_nuevo": ("ind_nuevo", lambda v: v),
    "ind_actividad_cliente": ("ind_actividad_cliente", lambda v: v),
    "leaving": ("indrel", lambda v: np.where(np.isnan(v), np.nan, (v == 99).astype(float))),
}
CATEGORIES = [
    "sexo", "segmento", "canal_entrada", "ind_empleado", "indext", "indresi", "tiprel_1mes",
    "indrel_1mes", "pais_residencia", "nomprov", "indfall",
]  # fmt: skip


def fit_encoder(attributes: pd.DataFrame, top_categories: int = 10) -> dict[str, Any]:
    """Means, deviations and category vocabularies from the training rows: stored in the
    checkpoint so scoring encodes another month exactly as training did."""
    require_columns(attributes, [c for c, _ in NUMERIC.values()] + CATEGORIES, "attributes")
    numeric = {}
    for name, (column, transform) in NUMERIC.items():
        values = transform(attributes[column].to_numpy(dtype=float))
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
        std = float(np.nanstd(values)) if np.isfinite(values).any() else 1.0
        numeric[name] = (mean, std if std > 1e-6 else 1.0)
    vocab = {}
    for column in CATEGORIES:
        counts = attributes[column].astype("string").value_counts(dropna=True)
        vocab[column] = [str(v) for v in counts.index[:top_categories]]
    return {"numeric": numeric, "vocab": vocab}


def n_features(encoder: dict[str, Any], lags: int) -> int:
    slots = sum(len(values) + 2 for values in encoder["vocab"].values())  # + other, missing
    return 2 * len(encoder["numeric"]) + slots + lags


def encode_attributes(attributes: pd.DataFrame, encoder: dict[str, Any]) -> np.ndarray:
    """[rows, features] float32 (without the lagged presence flags)."""
    columns = []
    for name, (column, transform) in NUMERIC.items():
        mean, std = encoder["numeric"][name]
        values = transform(attributes[column].to_numpy(dtype=float))
        missing = np.isnan(values)
        columns += [np.where(missing, 0.0, (values - mean) / std), missing.astype(float)]
    for column, values in encoder["vocab"].items():
        text = attributes[column].astype("string")
        codes = pd.Categorical(text, categories=values).codes  # -1: other or missing
        other = np.where(codes < 0, len(values), codes)
        slot = np.where(text.isna().to_numpy(dtype=bool), len(values) + 1, other)
        columns.append(np.eye(len(values) + 2)[slot])
    return np.column_stack([c[:, None] if c.ndim == 1 else c for c in columns]).astype(np.float32)


@dataclass
class MonthGraph:
    """One target month: customer rows (sorted ids), their features, the product -> customer
    edges (sorted by customer row) and, when the month's products are known, the additions."""

    month: int
    customers: np.ndarray  # int32 [n]
    x: np.ndarray  # float32 [n, features]
    held_last: np.ndarray  # int8 [n, products]: held in m-1 (never scored)
    edge_row: np.ndarray  # int64 [E], ascending
    edge_product: np.ndarray  # int64 [E]
    edge_attr: np.ndarray  # float32 [E, lags]: held in m-1 .. m-L
    targets: np.ndarray | None  # int8 [n, products]: added in m (None: month not labelled)

    def __len__(self) -> int:
        return len(self.customers)

    @cached_property
    def pointer(self) -> np.ndarray:
        """CSR offsets: the edges of row i are ``pointer[i]:pointer[i + 1]``."""
        return np.searchsorted(self.edge_row, np.arange(len(self) + 1))

    def edges(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The edges of customer ``rows`` (any order), as (batch position, product, flags)."""
        pointer = self.pointer
        counts = pointer[rows + 1] - pointer[rows]
        position = np.repeat(np.arange(len(rows)), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        edges = pointer[rows][position] + offsets
        return position, self.edge_product[edges], self.edge_attr[edges]


def _rows_at(table: pd.DataFrame, month: int, customers: np.ndarray) -> tuple[np.ndarray, ...]:
    """Index into ``table`` of each customer's row in ``month`` and whether it has one."""
    rows = table.index[table["month"].to_numpy() == month].to_numpy()
    ids = table["customer"].to_numpy()[rows]
    order = np.argsort(ids, kind="stable")
    rows, ids = rows[order], ids[order]
    at = np.searchsorted(ids, customers).clip(max=max(len(ids) - 1, 0))
    found = (ids[at] == customers) if len(ids) else np.zeros(len(customers), dtype=bool)
    return rows[at] if len(ids) else np.zeros(len(customers), dtype=int), found


def build_month_graph(
    history: pd.DataFrame,
    month: int,
    encoder: dict[str, Any],
    lags: int,
    attributes: pd.DataFrame | None = None,
    labelled: bool = False,
) -> MonthGraph:
    """The graph of target month ``month`` for the customers present in ``month - 1``.

    Product flags are read from ``history`` months ``month - lags`` .. ``month - 1`` only.
    Attributes: the month-``month`` rows of ``attributes`` (the typed test table) or, when it
    is None, of ``history``; a customer without one keeps its ``month - 1`` attributes.
    ``labelled``: keep only the customers also present in ``month`` (in ``history``) and read
    their additions as targets (training and validation).
    """
    require_columns(history, ["customer", "month", *PRODUCTS], "banking history")
    history = history.reset_index(drop=True)
    last = history[history["month"].to_numpy() == month - 1]
    customers = np.sort(last["customer"].to_numpy().astype(np.int32))
    targets = None
    if labelled:
        now_rows, now_found = _rows_at(history, month, customers)
        customers, now_rows = customers[now_found], now_rows[now_found]
    held = np.zeros((len(customers), lags, N_PRODUCTS), dtype=np.int8)
    present = np.zeros((len(customers), lags), dtype=np.float32)
    flags = history[PRODUCTS].to_numpy(dtype=np.int8)
    for k in range(1, lags + 1):
        rows, found = _rows_at(history, month - k, customers)
        held[found, k - 1] = flags[rows[found]]
        present[:, k - 1] = found
    if labelled:
        targets = ((flags[now_rows] == 1) & (held[:, 0] == 0)).astype(np.int8)

    source = history if attributes is None else attributes.reset_index(drop=True)
    rows, found = _rows_at(source, month, customers)
    previous, _ = _rows_at(history, month - 1, customers)
    current = source.iloc[rows[found]]
    fallback = history.iloc[previous[~found]]
    parts = [part for part in (current, fallback) if len(part)] or [current]
    frame = pd.concat(parts, ignore_index=True)  # no empty part: pandas warns on those
    order = np.concatenate([np.flatnonzero(found), np.flatnonzero(~found)])
    encoded = encode_attributes(frame, encoder)
    encoded[order] = encoded.copy()

    edge_row, edge_product = np.nonzero(held.any(axis=1))
    return MonthGraph(
        month=month,
        customers=customers,
        x=np.concatenate([encoded, present], axis=1).astype(np.float32),
        held_last=held[:, 0].copy(),
        edge_row=edge_row.astype(np.int64),
        edge_product=edge_product.astype(np.int64),
        edge_attr=held[edge_row, :, edge_product].astype(np.float32),
        targets=targets,
    )

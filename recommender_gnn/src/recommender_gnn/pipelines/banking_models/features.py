"""Lag features of product ownership, as the Santander competition's best solutions built them.

A row describes one customer at a target month ``m``: the 24 product flags at ``m-1 .. m-L``
(NaN where the customer has no row that month), per product the additions, drops and months
held over those lags, the customer's attributes at ``m`` (the row of ``m`` for a training month,
``santander_test`` for the test month) and the calendar month. Only customers present in
``m-1`` get a row: the others have nothing to compare with and get popularity.

Product flags are only ever read from months ``< m`` (``history`` below); of the month ``m``
itself only the attributes are read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns

from ..banking_data.contract import PRODUCTS
from ..banking_data.generator import SHORT

LABEL = "label"  # the added product's index in PRODUCTS (training rows)


def _flags_by_month(history: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """Each month's product flags indexed by customer."""
    return {
        int(month): part.set_index("customer")[PRODUCTS]
        for month, part in history.groupby("month", sort=True)
    }


def category_vocabulary(train: pd.DataFrame, columns: list[str]) -> dict[str, list[str]]:
    """The values of each categorical attribute in the train table (as text, sorted): the
    codes every feature table uses, so train, validation and test agree; unseen -> missing."""
    vocabulary = {}
    for column in columns:
        values = train[column].dropna().astype(str).unique()
        vocabulary[column] = sorted(values)
    return vocabulary


def _attribute_features(
    attributes: pd.DataFrame, customers: np.ndarray, config: dict[str, Any], vocabulary
) -> dict[str, np.ndarray]:
    """Numeric attributes as float32, categorical ones as codes of ``vocabulary`` (NaN when
    missing or unseen), for ``customers`` (NaN where they have no attribute row)."""
    rows = attributes.drop_duplicates("customer").set_index("customer").reindex(customers)
    features = {}
    for column in config["numeric_attributes"]:
        features[column] = pd.to_numeric(rows[column], errors="coerce").to_numpy("float32")
    for column in config["categorical_attributes"]:
        text = rows[column].astype(object).where(rows[column].notna())
        text = text.map(str, na_action="ignore")
        codes = pd.Categorical(text, categories=vocabulary[column]).codes.astype("float32")
        features[column] = np.where(codes < 0, np.nan, codes).astype("float32")
    return features


def month_features(
    train: pd.DataFrame,
    attributes: pd.DataFrame,
    month: int,
    customers: np.ndarray,
    config: dict[str, Any],
    vocabulary: dict[str, list[str]],
) -> pd.DataFrame:
    """Features of ``customers`` at target month ``month`` (columns: customer, month, then
    ``feature_names(config)``). Flags come from ``train`` rows of months ``< month`` only;
    ``attributes`` holds the customers' attribute rows of ``month``."""
    lags = int(config["lags"])
    history = train[(train["month"] < month) & (train["month"] >= month - lags)]
    by_month = _flags_by_month(history)
    empty = np.full((len(customers), len(PRODUCTS)), np.nan, dtype="float32")
    # lagged[l - 1]: flags at month - l (NaN where absent)
    lagged = np.stack(
        [
            by_month[month - lag].reindex(customers).to_numpy("float32", na_value=np.nan)
            if month - lag in by_month
            else empty
            for lag in range(1, lags + 1)
        ]
    )
    table: dict[str, np.ndarray] = {
        "customer": np.asarray(customers, dtype="int32"),
        "month": np.full(len(customers), month, dtype="int16"),
    }
    for lag in range(1, lags + 1):
        for index, short in enumerate(SHORT):
            table[f"lag{lag}_{short}"] = lagged[lag - 1, :, index]
    # Oldest to newest: a change is counted between two consecutive months both present.
    chronological = lagged[::-1]
    change = chronological[1:] - chronological[:-1]  # NaN where either month is absent
    adds = np.nansum(change == 1, axis=0).astype("float32")
    drops = np.nansum(change == -1, axis=0).astype("float32")
    held = np.nansum(chronological, axis=0).astype("float32")
    for index, short in enumerate(SHORT):
        table[f"adds_{short}"] = adds[:, index]
        table[f"drops_{short}"] = drops[:, index]
        table[f"held_{short}"] = held[:, index]
    table["n_held_lag1"] = np.nansum(lagged[0], axis=1).astype("float32")
    table["adds_total"] = adds.sum(axis=1)
    table["drops_total"] = drops.sum(axis=1)
    table["months_present"] = (~np.isnan(lagged[:, :, 0])).sum(axis=0).astype("float32")
    table.update(_attribute_features(attributes, customers, config, vocabulary))
    table["calendar_month"] = np.full(len(customers), month % 12 + 1, dtype="float32")
    return pd.DataFrame(table)


def feature_names(config: dict[str, Any]) -> list[str]:
    lags = int(config["lags"])
    names = [f"lag{lag}_{short}" for lag in range(1, lags + 1) for short in SHORT]
    names += [f"{kind}_{short}" for short in SHORT for kind in ("adds", "drops", "held")]
    names += ["n_held_lag1", "adds_total", "drops_total", "months_present"]
    names += [*config["numeric_attributes"], *config["categorical_attributes"]]
    return [*names, "calendar_month"]


def _present(train: pd.DataFrame, month: int) -> np.ndarray:
    return np.sort(train.loc[train["month"] == month, "customer"].unique())


def candidate_features(
    train: pd.DataFrame,
    attributes: pd.DataFrame,
    month: int,
    config: dict[str, Any],
    vocabulary: dict[str, list[str]],
) -> pd.DataFrame:
    """Features of the customers of ``attributes`` (the month's rows) present in ``month-1``."""
    require_columns(attributes, ["customer", *config["numeric_attributes"]], "attributes")
    customers = np.intersect1d(attributes["customer"].unique(), _present(train, month - 1))
    return month_features(train, attributes, month, customers, config, vocabulary)


def target_months(month: int, offsets: list[int]) -> list[int]:
    """The training target months of a model that predicts ``month``: ``month - offset`` for
    each offset (e.g. 12: the same calendar month a year earlier), those with a month before."""
    if any(int(offset) < 1 for offset in offsets):
        raise ValueError(f"banking_models.features.target_offsets must be >= 1, got {offsets}")
    months = sorted({month - int(offset) for offset in offsets if month - int(offset) >= 1})
    if not months:
        raise ValueError(f"no training target month for month {month} with offsets {offsets}")
    return months


def training_rows(
    train: pd.DataFrame, months: list[int], config: dict[str, Any], vocabulary
) -> pd.DataFrame:
    """One row per (customer, target month, added product): the features of the customer at
    the target month and ``label``, the product's index. A product is added at ``t`` when held
    at ``t`` and not at ``t-1`` (customers present in both months)."""
    parts = []
    for month in months:
        now = train[train["month"] == month]
        before = train[train["month"] == month - 1].set_index("customer")[PRODUCTS]
        now = now[now["customer"].isin(before.index)]
        flags_now = now[PRODUCTS].to_numpy(dtype="int8")
        flags_before = before.reindex(now["customer"]).to_numpy(dtype="int8")
        rows, labels = np.nonzero((flags_now == 1) & (flags_before == 0))
        if rows.size == 0:
            continue
        adders = np.unique(now["customer"].to_numpy()[rows])
        features = month_features(train, now, month, adders, config, vocabulary)
        position = np.searchsorted(adders, now["customer"].to_numpy()[rows])
        part = features.iloc[position].reset_index(drop=True)
        part[LABEL] = labels.astype("int16")
        parts.append(part)
    if not parts:
        raise ValueError(f"no product was added in the training target months {months}")
    return pd.concat(parts, ignore_index=True)

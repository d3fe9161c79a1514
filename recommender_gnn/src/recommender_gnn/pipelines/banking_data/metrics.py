"""MAP@7 as the Santander competition scored it, and the two reference rankings: the oracle
(the generator's true probabilities: the best any model can do in expectation) and popularity.

Predictions are long frames (customer, product, rank), rank 1 first; truth is long
(customer, product), one row per added product, as ``contract.added_products`` gives it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns

from .contract import PRODUCTS, added_products, customer_ids, month_index


def average_precision(
    predictions: pd.DataFrame, truth: pd.DataFrame, customers, k: int = 7
) -> pd.Series:
    """AP@k of every listed customer (index: the customers, sorted; 0 for one who adds
    nothing): the sum over hits at rank i of precision@i, divided by min(k, products added).
    Predictions of unlisted customers are ignored; a repeated product takes a rank but scores
    once (as the competition's apk)."""
    require_columns(predictions, ["customer", "product", "rank"], "predictions")
    require_columns(truth, ["customer", "product"], "truth")
    customers = np.sort(pd.unique(np.asarray(customers)))
    truth = truth[truth["customer"].isin(customers)].drop_duplicates(["customer", "product"])
    n_added = truth.groupby("customer").size()
    ranked = predictions[predictions["customer"].isin(n_added.index)]
    ranked = ranked.sort_values(["customer", "rank"], kind="stable")
    ranked = ranked[ranked.groupby("customer").cumcount() < k].copy()
    ranked["position"] = ranked.groupby("customer").cumcount() + 1
    first = ranked[~ranked.duplicated(["customer", "product"])]
    hits = first.merge(truth[["customer", "product"]], on=["customer", "product"], how="inner")
    hits = hits.sort_values(["customer", "position"], kind="stable")
    precision = (hits.groupby("customer").cumcount() + 1) / hits["position"]
    summed = precision.groupby(hits["customer"].to_numpy()).sum()
    per_adder = summed / np.minimum(k, n_added.reindex(summed.index))
    return per_adder.reindex(customers, fill_value=0.0).astype(float).rename("average_precision")


def map_at_k(
    predictions: pd.DataFrame, truth: pd.DataFrame, customers, k: int = 7
) -> dict[str, float]:
    """{"map_all", "map_adders", "n_customers", "n_adders"}: the mean ``average_precision``
    over every listed customer (one who adds nothing scores 0: the competition's MAP@7) and
    over those who add something."""
    per_customer = average_precision(predictions, truth, customers, k)
    listed = per_customer.index
    n_adders = int(truth.loc[truth["customer"].isin(listed), "customer"].nunique())
    total = float(per_customer.sum())
    return {
        "map_all": total / len(listed) if len(listed) else 0.0,
        "map_adders": total / n_adders if n_adders else 0.0,
        "n_customers": len(listed),
        "n_adders": n_adders,
    }


def oracle_predictions(oracle_probabilities: pd.DataFrame, k: int = 7) -> pd.DataFrame:
    """Each customer's k most probable additions (ties in PRODUCTS order; probability 0,
    i.e. already held, never listed). Input: wide (ncodpers + one column per product)."""
    require_columns(oracle_probabilities, ["ncodpers", *PRODUCTS], "oracle probabilities")
    probabilities = oracle_probabilities[PRODUCTS].to_numpy(dtype=float)
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(len(probabilities)), order.shape[1])
    columns = order.ravel()
    ranked = pd.DataFrame(
        {
            "customer": oracle_probabilities["ncodpers"].to_numpy()[rows],
            "product": np.asarray(PRODUCTS, dtype=object)[columns],
            "rank": np.tile(np.arange(1, order.shape[1] + 1), len(probabilities)),
        }
    )
    return ranked[probabilities[rows, columns] > 0].reset_index(drop=True)


def popularity_predictions(train_canonical: pd.DataFrame, month: int, k: int = 7) -> pd.DataFrame:
    """For each customer present in ``month - 1``: the products most often added in the same
    calendar month a year earlier (all months before ``month`` if that one is absent), minus
    those the customer holds in ``month - 1``."""
    require_columns(train_canonical, ["customer", "month", *PRODUCTS], "popularity input")
    history = train_canonical[train_canonical["month"] < month]
    additions = added_products(history)
    same_month = additions[additions["month"] == month - 12]
    counts = (same_month if len(same_month) else additions)["product"].value_counts()
    ranking = counts.reindex(PRODUCTS, fill_value=0).sort_values(ascending=False, kind="stable")
    ranking = ranking[ranking > 0]
    last = history[history["month"] == month - 1]
    held = last[list(ranking.index)].to_numpy(dtype=bool)
    # Position of each product in the customer's list: its popularity rank among the not held.
    position = np.cumsum(~held, axis=1)
    rows, columns = np.nonzero(~held & (position <= k))
    return pd.DataFrame(
        {
            "customer": last["customer"].to_numpy()[rows],
            "product": np.asarray(ranking.index, dtype=object)[columns],
            "rank": position[rows, columns],
        }
    )


def submission_to_long(submission: pd.DataFrame) -> pd.DataFrame:
    """(customer, product, rank) of a ``ncodpers,added_products`` frame (space separated)."""
    require_columns(submission, ["ncodpers", "added_products"], "submission")
    products = submission["added_products"].fillna("").str.split()
    customer = customer_ids(submission, "submission")  # text (from the CSV) or integers
    long = pd.DataFrame({"customer": customer, "product": products}).explode("product")
    long = long.dropna(subset=["product"])
    long["rank"] = long.groupby("customer").cumcount() + 1
    return long.reset_index(drop=True)


def oracle_month(oracle: pd.DataFrame, month: int) -> pd.DataFrame:
    """The oracle rows of one month index."""
    return oracle[month_index(pd.to_datetime(oracle["fecha_dato"])) == month]

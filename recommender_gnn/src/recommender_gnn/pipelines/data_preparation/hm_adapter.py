"""H&M ``transactions_train.csv`` -> the canonical interactions table (one sequence per
customer, every purchase an order event), for the ``hm_sequences`` pipeline.

A day's purchases share one ts (the file has dates only) and keep the file's order: they are
one basket, which the GNN's graphs treat as such (``baskets``), not a sequence in article-id
order."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from kedro.pipeline import Node, Pipeline

from recommender_gnn.checks import require_columns
from recommender_gnn.sorting import lexsort

logger = logging.getLogger(__name__)
HM_COLUMNS = ["t_dat", "customer_id", "article_id", "price", "sales_channel_id"]


def transactions_to_interactions(
    transactions: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(hm_interactions, hm_item_map, hm_session_map); ids contiguous, first seen first."""
    require_columns(transactions, HM_COLUMNS, "hm_transactions")
    dates = pd.to_datetime(transactions["t_dat"], format="%Y-%m-%d", errors="coerce")
    bad = dates.isna()
    if bad.any():
        raise ValueError(
            f"hm_transactions column 't_dat' row {int(np.flatnonzero(bad)[0])} holds "
            f"{transactions['t_dat'][bad].iloc[0]!r}: expected a date YYYY-MM-DD"
        )
    articles = transactions["article_id"].astype(str)
    not_ids = ~articles.str.fullmatch(r"\d{9,10}")
    if not_ids.any():
        raise ValueError(
            f"hm_transactions column 'article_id' holds {articles[not_ids].iloc[0]!r}: expected "
            "10 digits (read it as a string, or the leading zero is lost)"
        )
    articles = articles.str.zfill(10)
    order = lexsort((dates.to_numpy(), transactions["customer_id"].to_numpy()))  # stable
    customers, session = np.unique(
        transactions["customer_id"].to_numpy()[order], return_inverse=True
    )
    article_ids, item = np.unique(articles.to_numpy()[order], return_inverse=True)
    interactions = pd.DataFrame(
        {
            "session": session.astype(np.int64),
            "item": item.astype(np.int64),
            "ts": (dates.to_numpy()[order].astype("datetime64[s]").astype(np.int64)),
            "type": np.full(len(order), 2, dtype=np.int8),
        }
    )
    logger.info(
        "hm_transactions: %d purchases of %d articles by %d customers",
        len(interactions),
        len(article_ids),
        len(customers),
    )
    return (
        interactions,
        pd.DataFrame(
            {"item": np.arange(len(article_ids), dtype=np.int64), "article_id": article_ids}
        ),
        pd.DataFrame(
            {"session": np.arange(len(customers), dtype=np.int64), "customer_id": customers}
        ),
    )


def create_hm_adapter_pipeline() -> Pipeline:
    """The adapter as a pipeline the ``hm_sequences`` pipeline starts with."""
    return Pipeline(
        [
            Node(
                func=transactions_to_interactions,
                inputs="hm_transactions",
                outputs=["hm_interactions", "hm_item_map", "hm_session_map"],
                name="hm_transactions_to_interactions",
            )
        ]
    )

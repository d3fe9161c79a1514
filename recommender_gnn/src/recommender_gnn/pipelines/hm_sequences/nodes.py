"""H&M's task on customer purchase sequences: the articles each customer buys in the last week.

The weeks before the test week train the model, the week before it picks the epoch (early
stopping), and a customer's sequence up to a week is the prefix whose next purchases are the
labels. Everything is an order event here, so the model's orders head ranks the articles.
Metrics as in the H&M competition: MAP@12, plus Recall@12.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)
WEEK = 7 * 86_400


def _week_split(interactions: pd.DataFrame, cutoff: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prefixes (purchases before ``cutoff``) of customers who buy in the week from ``cutoff``,
    and those purchases as ``orders`` labels."""
    week = interactions[(interactions["ts"] >= cutoff) & (interactions["ts"] < cutoff + WEEK)]
    before = interactions[interactions["ts"] < cutoff]
    buyers = np.intersect1d(week["session"].unique(), before["session"].unique())
    labels = week.loc[week["session"].isin(buyers), ["session", "item"]].drop_duplicates()
    prefix = before[before["session"].isin(buyers)].reset_index(drop=True)
    return prefix, labels.assign(event_type="orders")[["session", "event_type", "item"]]


def split_weeks(interactions: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """(train sequences, valid prefixes, valid labels, test prefixes, test labels)."""
    test_cutoff = int(interactions["ts"].max()) - WEEK + 1
    valid_cutoff = test_cutoff - WEEK
    valid_prefix, valid_labels = _week_split(interactions, valid_cutoff)
    test_prefix, test_labels = _week_split(interactions, test_cutoff)
    train = interactions[interactions["ts"] < valid_cutoff].reset_index(drop=True)
    if valid_labels.empty or test_labels.empty:
        raise ValueError(
            "hm_interactions: no customer buys both before and during the last two weeks; "
            "the H&M split needs purchases in the last two weeks of customers seen before"
        )
    logger.info(
        "H&M split: %d training purchases, %d validation and %d test customers",
        len(train), valid_labels["session"].nunique(), test_labels["session"].nunique(),
    )  # fmt: skip
    return train, valid_prefix, valid_labels, test_prefix, test_labels


def baseline_predictions(
    train_sequences: pd.DataFrame, test_sessions: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Popularity (last weeks' best sellers) and repurchase (the customer's own articles, most
    recent first, then best sellers), as ``orders`` in the shared predictions format."""
    k = params["top_k"]
    recent = train_sequences[
        train_sequences["ts"] > train_sequences["ts"].max() - params["popularity_weeks"] * WEEK
    ]
    popular = recent["item"].value_counts().index.to_numpy()[:k]
    sessions = np.unique(test_sessions["session"])
    best_sellers = pd.DataFrame(
        {"session": np.repeat(sessions, popular.size), "item": np.tile(popular, sessions.size)}
    )
    history = test_sessions.sort_values(["session", "ts"], kind="stable").iloc[::-1]
    own = history.drop_duplicates(["session", "item"])[["session", "item"]]
    return _ranked(best_sellers, k), _ranked(pd.concat([own, best_sellers]), k)


def _ranked(candidates: pd.DataFrame, k: int) -> pd.DataFrame:
    """The first ``k`` distinct items per session, in order, as ``orders`` predictions."""
    ranked = candidates.drop_duplicates(["session", "item"])
    ranked = ranked.assign(rank=ranked.groupby("session").cumcount() + 1)
    ranked = ranked[ranked["rank"] <= k].sort_values(["session", "rank"]).reset_index(drop=True)
    return ranked.assign(event_type="orders", score=-ranked["rank"].astype("float64"))[
        ["session", "event_type", "item", "rank", "score"]
    ]


def map_and_recall(predictions: pd.DataFrame, labels: pd.DataFrame, k: int) -> dict[str, float]:
    """MAP@k (H&M's metric: precision at each hit, over min(k, purchases)) and Recall@k, averaged
    over the customers with labels; a customer without predictions scores 0."""
    top = predictions.loc[
        (predictions["event_type"] == "orders") & (predictions["rank"] <= k),
        ["session", "item", "rank"],
    ]
    hits = labels.merge(top, on=["session", "item"], how="inner").sort_values(["session", "rank"])
    hits["precision"] = (hits.groupby("session").cumcount() + 1) / hits["rank"]
    n_labels = labels.groupby("session").size()
    precision_sum = hits.groupby("session")["precision"].sum().reindex(n_labels.index)
    n_hits = hits.groupby("session").size().reindex(n_labels.index)
    return {
        f"map_at_{k}": float((precision_sum.fillna(0.0) / n_labels.clip(upper=k)).mean()),
        f"recall_at_{k}": float((n_hits.fillna(0) / n_labels).mean()),
        "customers": int(n_labels.size),
    }


def evaluate(
    gnn_predictions: pd.DataFrame,
    popularity_predictions: pd.DataFrame,
    repurchase_predictions: pd.DataFrame,
    test_labels: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """One row per model: MAP@k and Recall@k on the test week."""
    models = {
        "popularity": popularity_predictions,
        "repurchase": repurchase_predictions,
        "gnn": gnn_predictions,
    }
    rows = [
        {"model": name, **map_and_recall(predictions, test_labels, params["top_k"])}
        for name, predictions in models.items()
    ]
    table = pd.DataFrame(rows)
    logger.info("H&M test week:\n%s", table.to_string(index=False))
    return table

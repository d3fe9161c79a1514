"""H&M's task on customer purchase sequences: the articles each customer buys in the last week.

The weeks before the test week train the model, the week before it picks the epoch (early
stopping), and a customer's sequence up to a week is the prefix whose next purchases are the
labels; the GNN trains on exactly such pairs (``target_window_days``: prefix before a week ->
that week's articles) and a day's purchases are one basket. Everything is an order event here,
so the model's orders head ranks the articles. The GNN proposes new articles; the customer's
own articles join them through the same seen-item policy as every OTTO model, its weight chosen
on the validation week. Metrics as in the H&M competition: MAP@12, plus Recall@12.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from recommender_gnn.model_selection.policy import apply_seen_policy

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


def best_sellers(train_sequences: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The last ``popularity_weeks``' best sellers as the policy's fill (every event type)."""
    recent = train_sequences[
        train_sequences["ts"] > train_sequences["ts"].max() - params["popularity_weeks"] * WEEK
    ]
    items = recent["item"].value_counts().index.to_numpy()[: 4 * params["top_k"]]
    return pd.DataFrame(
        {
            "event_type": np.repeat(["clicks", "carts", "orders"], items.size),
            "rank": np.tile(np.arange(1, items.size + 1), 3),
            "item": np.tile(items, 3),
        }
    )


def gnn_with_seen_items(
    valid_candidates: pd.DataFrame,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    test_candidates: pd.DataFrame,
    test_sessions: pd.DataFrame,
    train_sequences: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """The GNN's new articles merged with the customer's own (the shared seen-item policy),
    the weight chosen by H&M's metric, MAP@k, on the validation week (ties: the smaller)."""
    popular = best_sellers(train_sequences, params["baselines"])
    policy, k = params["seen_items"], params["baselines"]["top_k"]
    scores = {
        weight: map_and_recall(
            apply_seen_policy(
                valid_candidates, valid_sessions, popular,
                dict.fromkeys(["clicks", "carts", "orders"], weight), policy,
            ),
            valid_labels, k,
        )[f"map_at_{k}"]
        for weight in sorted(float(w) for w in policy["weights"])
    }  # fmt: skip
    weight = max(scores, key=lambda w: (scores[w], -w))
    logger.info("H&M seen-item weight by validation MAP@%d %s: %s", k, scores, weight)
    weights = dict.fromkeys(["clicks", "carts", "orders"], weight)
    return apply_seen_policy(test_candidates, test_sessions, popular, weights, policy)


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
    gnn_candidates: pd.DataFrame,
    popularity_predictions: pd.DataFrame,
    repurchase_predictions: pd.DataFrame,
    test_labels: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """One row per model: MAP@k and Recall@k on the test week (``gnn_new_items``: the GNN's
    candidates alone, ``gnn``: with the customer's own articles by the seen-item policy)."""
    models = {
        "popularity": popularity_predictions,
        "repurchase": repurchase_predictions,
        "gnn_new_items": gnn_candidates,
        "gnn": gnn_predictions,
    }
    rows = [
        {"model": name, **map_and_recall(predictions, test_labels, params["top_k"])}
        for name, predictions in models.items()
    ]
    table = pd.DataFrame(rows)
    logger.info("H&M test week:\n%s", table.to_string(index=False))
    return table

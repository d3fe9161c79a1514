"""MAP@k and recall@k of ranked recommendations (the Kaggle H&M definitions), vectorised.

AP@k of a customer = sum over ranks r <= k holding a purchased article of precision@r,
divided by min(number of purchased articles, k). MAP@k averages AP@k over customers:
either over the customers who bought (``map_at_12_buyers``: the Kaggle leaderboard's, which
skips customers without a purchase) or over every customer, non-buyers scoring 0
(``map_at_12_all_customers``).
"""

import numpy as np
import pandas as pd


def rank_by_score(scored: pd.DataFrame, k: int, score: str = "score") -> pd.DataFrame:
    """Keep each (week, customer)'s k best rows by ``score`` (ties: article_id) with ``rank``.

    One ``np.lexsort`` of integer codes (ids factorised in sorted order, so the order is
    that of sorting the strings): pandas' multi-column sort on string ids took about 1 s per
    2.5 M week-0 candidate rows.
    """
    week = scored["week"].to_numpy()
    customer = pd.factorize(scored["customer_id"], sort=True)[0]
    article = pd.factorize(scored["article_id"], sort=True)[0]
    order = np.lexsort((article, -scored[score].to_numpy(dtype="float64"), customer, week))
    week, customer = week[order], customer[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (week[1:] != week[:-1]) | (customer[1:] != customer[:-1])
    starts = np.flatnonzero(new_group)
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order)))) + 1
    keep = rank <= k
    return scored.iloc[order[keep]].assign(rank=rank[keep]).reset_index(drop=True)


def average_precision(
    recommendations: pd.DataFrame, purchases: pd.DataFrame, k: int
) -> pd.DataFrame:
    """AP@k and recall@k per buyer (rows of ``purchases``' customers), by (week, customer).

    ``recommendations``: week, customer_id, article_id, rank (1 = first); ``purchases``:
    week, customer_id, article_id. A buyer with no recommendation scores 0.
    """
    keys = ["week", "customer_id"]
    bought = purchases[[*keys, "article_id"]].drop_duplicates()
    if (
        recommendations.groupby(keys)["article_id"].nunique() < recommendations.groupby(keys).size()
    ).any():
        raise ValueError("recommendations repeat an article for one customer-week")
    top = recommendations.loc[recommendations["rank"] <= k, [*keys, "article_id", "rank"]]
    hits = top.merge(bought, on=[*keys, "article_id"]).sort_values([*keys, "rank"])
    hits["precision"] = (hits.groupby(keys).cumcount() + 1) / hits["rank"]
    per_buyer = bought.groupby(keys).size().rename("n_bought").to_frame()
    per_buyer["hits"] = hits.groupby(keys).size()
    per_buyer["precision_sum"] = hits.groupby(keys)["precision"].sum()
    per_buyer = per_buyer.fillna({"hits": 0, "precision_sum": 0.0})
    per_buyer["ap"] = per_buyer["precision_sum"] / np.minimum(per_buyer["n_bought"], k)
    per_buyer["recall"] = per_buyer["hits"] / per_buyer["n_bought"]
    return per_buyer[["ap", "recall"]].reset_index()


def map_at_k(recommendations: pd.DataFrame, purchases: pd.DataFrame, k: int) -> float:
    """MAP@k over the buyers of ``purchases``."""
    return float(average_precision(recommendations, purchases, k)["ap"].mean())

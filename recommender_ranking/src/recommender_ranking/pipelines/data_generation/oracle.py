"""The oracle: each customer's k articles with the highest true purchase probability.

The history-free part of the purchase formula (trend + taste, ``simulation.py``) scores an
article as pop(a) x (a factor of the customer and the article's cell), so inside one cell
(product group x colour x price tier) every customer ranks the articles by popularity. A
customer's top k therefore lies among the k most popular articles of each cell (the
*shortlist*, the same for everyone) plus the articles their own history adds (repurchase and
colour variants). Scoring only those is exact and affordable at full size, where customers x
articles would be 1.37 M x 105 k = 144 G probabilities;
``simulation.purchase_probabilities`` is the brute-force reference the tests compare with.
"""

import numpy as np
import pandas as pd

from .simulation import (
    Market,
    buy_probability,
    cell_popularity,
    effective_mix,
    launched_variants,
    weekly_tastes,
)


def oracle_recommendations(
    market: Market,
    week: int,
    n_weeks: int,
    history: pd.DataFrame,
    customers: pd.DataFrame,
    articles: pd.DataFrame,
    k: int,
    chunk_customers: int = 2048,
) -> pd.DataFrame:
    """``customer_id``, ``article_id``, ``probability``, ``rank`` (1..k) for every customer in
    ``week``, given the purchases (``customer``, ``article``) of the window before it."""
    n_customers, n_articles = len(customers), len(articles)
    k = min(k, n_articles)
    pop = market.popularity[:, week]
    by_cell = np.lexsort((-pop, market.cell))
    cell_sorted = market.cell[by_cell]
    rank_in_cell = np.arange(n_articles) - np.searchsorted(cell_sorted, cell_sorted, "left")
    shortlist = np.sort(by_cell[rank_in_cell < k])
    history = history.sort_values("customer", kind="stable")
    hist_customer = history["customer"].to_numpy()
    hist_article = history["article"].to_numpy()
    customer_ids = customers["customer_id"].to_numpy()
    article_ids = articles["article_id"].to_numpy()
    frames = []
    for first in range(0, n_customers, chunk_customers):
        members = np.arange(first, min(first + chunk_customers, n_customers))
        low, high = np.searchsorted(hist_customer, [members[0], members[-1] + 1])
        rows, top, score = _top_k(
            market,
            week,
            n_weeks,
            members,
            hist_customer[low:high] - first,
            hist_article[low:high],
            shortlist,
            k,
        )
        probability = buy_probability(market, week, members[rows], score)
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": customer_ids[members[rows]],
                    "article_id": article_ids[top],
                    "probability": probability,
                    "rank": np.tile(np.arange(1, k + 1), len(members)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _top_k(market, week, n_weeks, members, row, hist_article, shortlist, k):
    """Row (in ``members``), article and choice probability of each member's top k, best first.

    The shortlist is scored as a dense matrix; the history's articles (``row``,
    ``hist_article``: repurchase and colour variants) as sparse pairs holding their full score,
    which replace the same articles in the matrix."""
    n_members, n_articles = len(members), len(market.cell)
    n_hist = np.bincount(row, minlength=n_members)
    mix = effective_mix(market, members, n_hist > 0)
    taste = _cell_taste(market, week, n_weeks, members)
    pop = market.popularity[:, week]
    trend_share = pop / pop.sum()
    cell_share = pop / cell_popularity(market, week)[market.cell]

    def history_free(rows, chosen):
        return (
            mix[rows, 0] * trend_share[chosen]
            + mix[rows, 3] * taste[rows, market.cell[chosen]] * (cell_share[chosen])
        )

    weight = 1.0 / np.maximum(n_hist[row], 1)
    first, size = launched_variants(market, week, hist_article)
    variant_article = np.repeat(first, size) + (
        np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    )
    pair_key, inverse = np.unique(
        np.concatenate([row * n_articles + hist_article, np.repeat(row, size) * n_articles])
        + np.concatenate([np.zeros(len(row), np.int64), variant_article]),
        return_inverse=True,
    )
    history_weight = np.bincount(
        inverse,
        weights=np.concatenate(
            [mix[row, 1] * weight, np.repeat(mix[row, 2] * weight / size, size)]
        ),
    )
    pair_row, pair_article = pair_key // n_articles, pair_key % n_articles
    pair_score = history_weight + history_free(pair_row, pair_article)

    dense = (
        mix[:, [0]] * trend_share[shortlist][None, :]
        + mix[:, [3]] * taste[:, market.cell[shortlist]] * cell_share[shortlist][None, :]
    )
    position = np.minimum(np.searchsorted(shortlist, pair_article), len(shortlist) - 1)
    listed = shortlist[position] == pair_article
    dense[pair_row[listed], position[listed]] = -np.inf
    best = np.argpartition(-dense, k - 1, axis=1)[:, :k]
    best_score = np.take_along_axis(dense, best, 1)
    rows = np.concatenate([np.repeat(np.arange(n_members), k), pair_row])
    chosen = np.concatenate([shortlist[best].ravel(), pair_article])
    score = np.concatenate([best_score.ravel(), pair_score])
    order = np.lexsort((-score, rows))
    rows, chosen, score = rows[order], chosen[order], score[order]
    keep = np.arange(len(rows)) - np.searchsorted(rows, rows, "left") < k
    return rows[keep], chosen[keep], score[keep]


def _cell_taste(market, week, n_weeks, members) -> np.ndarray:
    """members x cells: group x colour x tier taste of each cell in ``week`` (cells are
    numbered group * colours * tiers + colour * tiers + tier, as ``Market.cell``)."""
    group, colour, tier = weekly_tastes(market, week, n_weeks, members)
    taste = group[:, :, None, None] * colour[:, None, :, None] * tier[:, None, None, :]
    return taste.reshape(len(members), -1)

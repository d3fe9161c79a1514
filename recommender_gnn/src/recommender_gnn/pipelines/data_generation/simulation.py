"""The latent structure of the generated shop and the vectorised random walk over it.

Items sit in categories with long-tailed, trending popularity. Each item has a few successors
(most in its own category, some in related categories) with skewed weights. A session's next
click is, with fixed probabilities, a revisit of an earlier click of the session, a jump to an
item drawn by the day's popularity, or a step along the successors of the current item where
successors in the category of the *previous* item weigh ``intent_boost`` times more: the next
item depends on the last two, so order matters and item-to-item counts only partly capture it.
Every probability is known, so ``next_click_distribution`` is the exact oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Shop:
    category: np.ndarray  # (n_items,) category of each item
    successors: np.ndarray  # (n_items, K) successor items
    weights: np.ndarray  # (n_items, K) base transition weights (rows sum to 1)
    popularity: np.ndarray  # (n_days, n_items) item distribution per day (rows sum to 1)
    revisit: float
    jump: float
    intent_boost: float

    # Computed once per shop, not once per chunk: at OTTO's size these take seconds each.
    @cached_property
    def cumulative_popularity(self) -> np.ndarray:
        return np.cumsum(self.popularity, axis=1)

    def most_popular(self, top: int) -> np.ndarray:
        """(n_days, top) items by popularity, most popular first."""
        if top not in self._most_popular:
            kept = min(top, self.popularity.shape[1])
            candidates = np.argpartition(-self.popularity, kept - 1, axis=1)[:, :kept]
            order = np.argsort(-np.take_along_axis(self.popularity, candidates, axis=1), axis=1)
            self._most_popular[top] = np.take_along_axis(candidates, order, axis=1)
        return self._most_popular[top]

    @cached_property
    def _most_popular(self) -> dict[int, np.ndarray]:
        return {}


def build_shop(rng: np.random.Generator, n_items: int, n_days: int, params: dict) -> Shop:
    n_categories = max(1, min(int(params["n_categories"]), n_items))
    category = np.sort(rng.integers(0, n_categories, n_items))
    category[:n_categories] = np.arange(n_categories)  # every category has an item
    category = np.sort(category)
    starts = np.searchsorted(category, np.arange(n_categories))
    sizes = np.bincount(category, minlength=n_categories)
    related = rng.integers(0, n_categories, (n_categories, 3))

    k = int(params["successors_per_item"])
    cross = rng.random((n_items, k)) < float(params["cross_category_share"])
    target_category = np.where(
        cross, related[category[:, None], rng.integers(0, 3, (n_items, k))], category[:, None]
    )
    offsets = np.floor(rng.random((n_items, k)) * sizes[target_category]).astype(np.int64)
    successors = starts[target_category] + offsets
    own = successors == np.arange(n_items)[:, None]
    successors[own] = (
        starts[target_category[own]] + (offsets[own] + 1) % sizes[target_category[own]]
    )
    weights = rng.dirichlet(np.full(k, float(params["transition_concentration"])), n_items)

    ranks = rng.permutation(n_items) + 1
    base = -float(params["popularity_exponent"]) * np.log(ranks)
    trend = rng.normal(0.0, float(params["trend_per_day"]), n_items)
    days = np.arange(n_days)[:, None] - (n_days - 1) / 2
    log_popularity = base[None, :] + trend[None, :] * days
    popularity = np.exp(log_popularity - log_popularity.max(axis=1, keepdims=True))
    popularity /= popularity.sum(axis=1, keepdims=True)
    return Shop(
        category=category,
        successors=successors,
        weights=weights,
        popularity=popularity,
        revisit=float(params["revisit_probability"]),
        jump=float(params["jump_probability"]),
        intent_boost=float(params["intent_boost"]),
    )


def _sample_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One column index per row of a (rows, columns) matrix of unnormalised weights."""
    cumulative = np.cumsum(probabilities, axis=1)
    draws = rng.random(len(probabilities)) * cumulative[:, -1]
    return np.minimum((cumulative < draws[:, None]).sum(axis=1), probabilities.shape[1] - 1)


def _step_weights(shop: Shop, previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Successor weights of ``current`` with the intent boost of ``previous`` (-1: none)."""
    same = (
        shop.category[shop.successors[current]]
        == np.where(previous >= 0, shop.category[np.maximum(previous, 0)], -1)[:, None]
    )
    boosted = shop.weights[current] * np.where(same, shop.intent_boost, 1.0)
    return boosted / boosted.sum(axis=1, keepdims=True)


def simulate_clicks(
    rng: np.random.Generator,
    shop: Shop,
    days: np.ndarray,
    lengths: np.ndarray,
    given: np.ndarray | None = None,
) -> np.ndarray:
    """(sessions, max length) matrix of clicked items, -1 after each session's end.

    ``given`` (sessions, g) fixes the first g clicks of every session: the walk continues
    from there (the tests compare the continuation with ``next_click_distribution``).
    """
    n_sessions, max_length = len(lengths), int(lengths.max())
    clicks = np.full((n_sessions, max_length), -1, dtype=np.int64)
    cumulative_popularity = shop.cumulative_popularity
    n_items = shop.popularity.shape[1]

    def popular(rows: np.ndarray) -> np.ndarray:
        draws = rng.random(len(rows)) * cumulative_popularity[days[rows], -1]
        picked = np.empty(len(rows), dtype=np.int64)
        row_days = days[rows]
        for day in np.unique(row_days):
            on_day = row_days == day
            picked[on_day] = np.searchsorted(cumulative_popularity[day], draws[on_day])
        return np.minimum(picked, n_items - 1)

    if given is None:
        clicks[:, 0] = popular(np.arange(n_sessions))
        first_step = 1
    else:
        clicks[:, : given.shape[1]] = given
        first_step = given.shape[1]
    for t in range(first_step, max_length):
        rows = np.flatnonzero(lengths > t)
        if rows.size == 0:
            break
        choice = rng.random(rows.size)
        revisit = choice < shop.revisit
        jump = ~revisit & (choice < shop.revisit + shop.jump)
        walk = ~revisit & ~jump
        nxt = np.empty(rows.size, dtype=np.int64)
        nxt[revisit] = clicks[rows[revisit], rng.integers(0, t, revisit.sum())]
        nxt[jump] = popular(rows[jump])
        walkers = rows[walk]
        previous = clicks[walkers, t - 2] if t >= 2 else np.full(walkers.size, -1)
        weights = _step_weights(shop, previous, clicks[walkers, t - 1])
        nxt[walk] = shop.successors[clicks[walkers, t - 1], _sample_rows(rng, weights)]
        clicks[rows, t] = nxt
    return clicks


def next_click_distribution(
    shop: Shop, clicks: np.ndarray, n_clicks: np.ndarray, days: np.ndarray, top: int = 20
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact top-``top`` of P(next click) after the first ``n_clicks`` clicks of each row.

    Returns (row, item, probability) arrays. Items outside the revisit and successor sets
    only get the popularity share, so the day's ``top`` most popular items complete the
    candidate set and the top is exact.
    """
    rows = np.arange(len(n_clicks))
    current = clicks[rows, n_clicks - 1]
    previous = np.where(n_clicks >= 2, clicks[rows, np.maximum(n_clicks - 2, 0)], -1)
    walk = 1.0 - shop.revisit - shop.jump
    step = _step_weights(shop, previous, current) * walk
    popular_items = shop.most_popular(top)

    max_length = clicks.shape[1]
    history_mask = np.arange(max_length)[None, :] < n_clicks[:, None]
    history_share = np.where(history_mask, shop.revisit / n_clicks[:, None], 0.0)
    candidate_items = np.concatenate(
        [shop.successors[current], np.where(history_mask, clicks, -1), popular_items[days]], axis=1
    )
    candidate_mass = np.concatenate([step, history_share, np.zeros((len(rows), top))], axis=1)
    row_index = np.repeat(rows, candidate_items.shape[1])
    flat_items = candidate_items.ravel()
    keep = flat_items >= 0
    row_index, flat_items, flat_mass = (
        row_index[keep],
        flat_items[keep],
        candidate_mass.ravel()[keep],
    )
    # Sum the sparse shares of repeated candidates, then add the popularity share once.
    order = np.lexsort((flat_items, row_index))
    row_index, flat_items, flat_mass = row_index[order], flat_items[order], flat_mass[order]
    first = np.ones(len(row_index), dtype=bool)
    first[1:] = (row_index[1:] != row_index[:-1]) | (flat_items[1:] != flat_items[:-1])
    group = np.cumsum(first) - 1
    mass = np.bincount(group, weights=flat_mass).astype(float)  # float even when empty
    unique_rows, unique_items = row_index[first], flat_items[first]
    mass += shop.jump * shop.popularity[days[unique_rows], unique_items]
    # Top per row: sort by row, then probability descending, item ascending for ties.
    order = np.lexsort((unique_items, -mass, unique_rows))
    unique_rows, unique_items, mass = unique_rows[order], unique_items[order], mass[order]
    start = np.searchsorted(unique_rows, unique_rows, side="left")
    position = np.arange(len(unique_rows)) - start
    best = position < top
    return unique_rows[best], unique_items[best], mass[best]

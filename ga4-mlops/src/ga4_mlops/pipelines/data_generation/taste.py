"""A user's category taste: the planted signal of the next purchase's category.

Every user has a favourite item category (uniform over ``ITEM_CATEGORIES``, from its own
random stream). With ``session.category_taste`` = t, each product page shows an item of the
favourite category (by popularity within it) with probability t, else an item by popularity
as without taste; category listing pages show the favourite with the same probability. The
taste draws come from their own per-day stream and only when t > 0, so t = 0 consumes no
random number of any other stream: the data are exactly those of a store without taste.
"""

from __future__ import annotations

import numpy as np

from ga4_mlops.problem_types import class_slug

from .catalogue import Site
from .params import random_stream
from .vocabulary import ITEM_CATEGORIES


def draw_favourites(seed: int, n_users: int, n_categories: int) -> np.ndarray:
    """Each user's favourite category code, from the ``taste`` stream (no other stream moves)."""
    return random_stream(seed, "taste").integers(0, n_categories, size=n_users)


def effective_taste(site: Site, favourite: np.ndarray, taste: float) -> np.ndarray:
    """The taste per user; 0 where the favourite has no item in the catalogue (such a user's
    pages keep their popularity draw, so the oracle's shares stay exact)."""
    stocked = np.bincount(site.item_category_code, minlength=site.n_categories) > 0
    return np.where(stocked[favourite], float(taste), 0.0)


def category_shares(site: Site) -> np.ndarray:
    """Popularity mass of each category: the chance an untasted page's item is of it."""
    return np.bincount(
        site.item_category_code, weights=site.item_popularity, minlength=site.n_categories
    ) / np.sum(site.item_popularity)


def category_probabilities(site: Site, favourite: np.ndarray, taste: float) -> np.ndarray:
    """(n_users, n_categories): the chance a product page's item, and so any cart line, is of
    each category: ``t * [c == favourite] + (1 - t) * category_shares(c)``."""
    t = effective_taste(site, favourite, taste)
    one_hot = np.eye(site.n_categories)[favourite]
    return t[:, None] * one_hot + (1 - t[:, None]) * category_shares(site)[None, :]


def price_means(site: Site, favourite: np.ndarray, taste: float) -> np.ndarray:
    """Each user's expected price of a product page's item: the taste mixes the favourite
    category's popularity-weighted mean price into the store's."""
    store = float(np.dot(site.item_popularity, site.item_price) / np.sum(site.item_popularity))
    weight = np.bincount(
        site.item_category_code, weights=site.item_popularity, minlength=site.n_categories
    )
    spend = np.bincount(
        site.item_category_code,
        weights=site.item_popularity * site.item_price,
        minlength=site.n_categories,
    )
    by_category = np.divide(spend, weight, out=np.zeros_like(spend), where=weight > 0)
    t = effective_taste(site, favourite, taste)
    return t * by_category[favourite] + (1 - t) * store


def apply_taste(
    simulation_seed: int,
    day: int,
    site: Site,
    favourite: np.ndarray,
    taste: float,
    item: np.ndarray,
    category: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pages' items and listing categories after the taste (``favourite`` per page).

    With probability t a page takes the favourite category and an item of it drawn by
    popularity within the category; other pages keep the draws they got without taste.
    """
    if taste <= 0 or item.size == 0:
        return item, category
    rng = random_stream(simulation_seed, "taste_day", day)
    t = effective_taste(site, favourite, taste)
    tasted = rng.random(item.size) < t
    uniform = rng.random(item.size)
    item, category = item.copy(), category.copy()
    for code in np.unique(favourite[tasted]):
        pages = np.flatnonzero(tasted & (favourite == code))
        members = np.flatnonzero(site.item_category_code == code)
        cumulative = np.cumsum(site.item_popularity[members])
        pick = np.searchsorted(cumulative / cumulative[-1], uniform[pages], side="right")
        item[pages] = members[np.minimum(pick, members.size - 1)]
        category[pages] = code
    return item, category


def category_probability_column(category: str) -> str:
    """The truth column of a category's share of a user's cart lines."""
    return f"category_probability_{class_slug(category)}"


def taste_truth(site: Site, favourite: np.ndarray, taste: float) -> dict[str, np.ndarray]:
    """The truth columns of the taste: the favourite, its strength and the exact share of
    each category among a user's cart lines (what the category oracle reads)."""
    shares = category_probabilities(site, favourite, taste)
    return {
        "favourite_category": np.asarray(ITEM_CATEGORIES, dtype=object)[favourite],
        "category_taste": np.full(favourite.size, float(taste)),
        **{
            category_probability_column(category): shares[:, code]
            for code, category in enumerate(ITEM_CATEGORIES)
        },
    }

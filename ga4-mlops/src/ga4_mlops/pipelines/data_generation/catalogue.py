"""The store: pages, items and every string an event parameter can hold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .params import random_stream
from .vocabulary import (
    ITEM_ADJECTIVES,
    ITEM_CATEGORIES,
    ITEM_NOUNS,
    REFERRER_BY_SOURCE,
    SITE,
    TRAFFIC_SOURCES,
)


@dataclass(frozen=True)
class Site:
    """Page and item vocabularies; string parameters are codes into ``strings``."""

    strings: pa.Array
    page_location: np.ndarray  # code into strings, per page
    page_title: np.ndarray
    n_categories: int
    item_id: pa.Array
    item_name: pa.Array
    item_category: pa.Array
    item_category_code: np.ndarray  # position in ITEM_CATEGORIES, per item
    item_price: np.ndarray
    item_popularity: np.ndarray
    traffic_source: np.ndarray  # code into strings, per TRAFFIC_SOURCES row
    traffic_medium: np.ndarray
    traffic_campaign: np.ndarray
    traffic_referrer: np.ndarray  # -1: no referrer (direct, data deleted, ...)
    engaged: tuple[int, int]  # codes of "0" and "1"

    @property
    def home(self) -> int:
        return 0

    @property
    def search(self) -> int:
        return self.n_categories + 1

    @property
    def cart(self) -> int:
        return self.n_categories + 2

    @property
    def checkout(self) -> int:
        return self.n_categories + 3

    @property
    def confirmation(self) -> int:
        return self.n_categories + 4

    def product(self, item: np.ndarray) -> np.ndarray:
        return self.n_categories + 5 + item


def build_site(seed: int, n_items: int) -> Site:
    """A Google-Merchandise-Store-like catalogue, fixed by the seed."""
    rng = random_stream(seed, "catalogue")
    category = rng.integers(0, len(ITEM_CATEGORIES), size=n_items)
    adjective = rng.integers(0, len(ITEM_ADJECTIVES), size=n_items)
    noun = rng.integers(0, len(ITEM_NOUNS), size=n_items)
    names = [
        f"Google {ITEM_ADJECTIVES[a]} {ITEM_NOUNS[b]}"
        for a, b in zip(adjective.tolist(), noun.tolist(), strict=True)
    ]
    ids = [f"GGOE{ITEM_CATEGORIES[c][:2].upper()}{i:05d}" for i, c in enumerate(category.tolist())]
    price = np.round(np.exp(rng.normal(np.log(18.0), 0.7, size=n_items)), 2) + 0.99
    popularity = 1.0 / (rng.permutation(n_items) + 5.0) ** 1.1

    strings: dict[str, int] = {}

    def code(value: str) -> int:
        return strings.setdefault(value, len(strings))

    engaged = (code("0"), code("1"))
    pages = [(f"{SITE}/", "Home")]
    pages += [
        (f"{SITE}/Google+Redesign/{c.replace(' ', '+')}", f"{c} | Google Merchandise Store")
        for c in ITEM_CATEGORIES
    ]
    pages += [
        (f"{SITE}/store.html?q=google", "Store search results"),
        (f"{SITE}/basket.html", "Shopping Cart"),
        (f"{SITE}/payment.html", "Checkout Your Information"),
        (f"{SITE}/ordercompleted.html", "Checkout Confirmation"),
    ]
    pages += [
        (
            f"{SITE}/Google+Redesign/{ITEM_CATEGORIES[c].replace(' ', '+')}/"
            f"{name.replace(' ', '+')}",
            name,
        )
        for c, name in zip(category.tolist(), names, strict=True)
    ]
    page_location = np.array([code(location) for location, _ in pages])
    page_title = np.array([code(title) for _, title in pages])
    traffic = np.array(
        [[code(source), code(medium), code(name)] for name, medium, source, _ in TRAFFIC_SOURCES]
    )
    referrer = np.array(
        [
            code(REFERRER_BY_SOURCE[source]) if source in REFERRER_BY_SOURCE else -1
            for _, medium, source, _ in TRAFFIC_SOURCES
        ]
    )
    return Site(
        strings=pa.array(list(strings), type=pa.string()),
        page_location=page_location,
        page_title=page_title,
        n_categories=len(ITEM_CATEGORIES),
        item_id=pa.array(ids, type=pa.string()),
        item_name=pa.array(names, type=pa.string()),
        item_category=pa.array([ITEM_CATEGORIES[c] for c in category.tolist()], pa.string()),
        item_category_code=category,
        item_price=price,
        item_popularity=popularity / popularity.sum(),
        traffic_source=traffic[:, 0],
        traffic_medium=traffic[:, 1],
        traffic_campaign=traffic[:, 2],
        traffic_referrer=referrer,
        engaged=engaged,
    )

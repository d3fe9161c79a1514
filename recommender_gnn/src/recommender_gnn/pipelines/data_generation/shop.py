"""The latent structure of the generated shop: what every session draws its items from.

Three kinds of item-to-item structure, so that no model family owns the data:
- **sequential** (directed): each item has a few successors (most in its own category) with
  skewed weights; successors in the category of the *previous* click weigh ``intent_boost``
  times more, so the next item can depend on the last two (what sequence models capture);
- **co-occurrence** (undirected): items sit in bundles (collections); an item's neighbours are
  the other items of its bundle, a symmetric relation with no order (what co-visitation and
  session-kNN capture);
- **popularity**: long-tailed and trending by day (what popularity captures).
Each item also has a skewed cart propensity and an order propensity (what is carted and bought
is an item property, not a coin flip). Popularity is computed per day on demand from two
vectors, so the shop of OTTO's 1.86 M items stays a few hundred MB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

CACHE_CELLS = 2**25  # per-day popularity vectors kept (float64 cells, 256 MB), then cleared


@dataclass(frozen=True)
class Shop:
    category: np.ndarray  # (n_items,) int32, items sorted by category
    successors: np.ndarray  # (n_items, K) int32 successor items
    weights: np.ndarray  # (n_items, K) base successor weights (rows sum to 1)
    bundle: np.ndarray  # (n_items,) int32 bundle of each item
    bundle_members: np.ndarray  # (n_bundles, size) int32 items of each bundle, -1 padded
    log_popularity: np.ndarray  # (n_items,) base log-popularity
    trend: np.ndarray  # (n_items,) log-popularity change per day
    n_days: int
    cart_propensity: np.ndarray  # (n_items,) in (0, 1]: relative chance to be carted
    order_propensity: np.ndarray  # (n_items,) in (0, 1]: relative chance to be ordered
    revisit: tuple[float, float, float]  # P(an event is a revisit): clicks, carts, orders
    shares: tuple[float, float, float]  # sequential, co-occurrence, popularity of new items
    intent_boost: float
    cart_last_click_boost: float  # a revisit cart prefers the item just clicked

    @property
    def n_items(self) -> int:
        return len(self.category)

    @cached_property
    def _cache(self) -> dict:
        return {}

    def popularity(self, day: int) -> np.ndarray:
        """(n_items,) the day's item distribution (sums to 1)."""
        return self._day(("popularity", int(day)))

    def cumulative(self, day: int) -> np.ndarray:
        """(n_items,) cumulative popularity of the day, for inverse-CDF draws."""
        return self._day(("cumulative", int(day)))

    def _day(self, key: tuple[str, int]) -> np.ndarray:
        if key not in self._cache:
            if sum(len(value) for value in self._cache.values()) > CACHE_CELLS:
                self._cache.clear()
            kind, day = key
            if kind == "popularity":
                log_p = self.log_popularity + self.trend * (day - (self.n_days - 1) / 2)
                values = np.exp(log_p - log_p.max())
                self._cache[key] = values / values.sum()
            else:
                self._cache[key] = np.cumsum(self.popularity(day))
        return self._cache[key]

    def most_popular(self, top: int, days: np.ndarray) -> np.ndarray:
        """(len(days), top) items by popularity on each day, most popular first."""
        kept = min(top, self.n_items)
        unique_days, inverse = np.unique(days, return_inverse=True)
        lists = []
        for day in unique_days:
            key = ("top", top, int(day))
            if key not in self._cache:
                popularity = self.popularity(day)
                candidates = np.argpartition(-popularity, kept - 1)[:kept]
                self._cache[key] = candidates[np.argsort(-popularity[candidates], kind="stable")]
            lists.append(self._cache[key])
        return np.stack(lists)[inverse] if lists else np.zeros((0, kept), dtype=np.int64)


def build_shop(
    rng: np.random.Generator,
    n_items: int,
    n_days: int,
    params: dict,
    revisit: tuple[float, float, float] | None = None,
) -> Shop:
    """A random shop. ``revisit`` (clicks, carts, orders) defaults to ``revisit_share`` for all."""
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

    # Bundles: consecutive runs of a random permutation, independent of the successor graph.
    size = max(2, int(params["bundle_size"]))
    order = rng.permutation(n_items)
    n_bundles = -(-n_items // size)
    members = np.full(n_bundles * size, -1, dtype=np.int32)
    members[:n_items] = order
    bundle = np.empty(n_items, dtype=np.int32)
    bundle[order] = np.arange(n_items) // size

    ranks = rng.permutation(n_items) + 1
    trend = rng.normal(0.0, float(params["trend_per_day"]), n_items)
    sigma = float(params["propensity_sigma"])
    # Lognormal, capped two standard deviations up so that rejection draws stay cheap.
    cart_propensity = np.exp(sigma * (np.minimum(rng.standard_normal(n_items), 2.0) - 2.0))
    order_propensity = np.exp(sigma * (np.minimum(rng.standard_normal(n_items), 2.0) - 2.0))
    share = float(params["revisit_share"])
    return Shop(
        category=category.astype(np.int32),
        successors=successors.astype(np.int32),
        weights=weights,
        bundle=bundle,
        bundle_members=members.reshape(n_bundles, size),
        log_popularity=-float(params["popularity_exponent"]) * np.log(ranks),
        trend=trend,
        n_days=int(n_days),
        cart_propensity=cart_propensity,
        order_propensity=order_propensity,
        revisit=revisit if revisit is not None else (share, share, share),
        shares=(
            float(params["sequential_share"]),
            float(params["cooccurrence_share"]),
            float(params["jump_share"]),
        ),
        intent_boost=float(params["intent_boost"]),
        cart_last_click_boost=float(params.get("cart_last_click_boost", 1.0)),
    )


def expected_events(params: dict) -> tuple[float, float, float]:
    """Expected clicks (after the first), carts and orders per session of the skeleton drawn in
    ``simulation.draw_skeleton``: what the revisit share is averaged over."""
    dispersion, extra = float(params["length_dispersion"]), float(params["mean_clicks"]) - 1
    success = dispersion / (dispersion + extra)
    max_clicks = int(params["max_clicks"])
    failures = np.arange(max_clicks - 1)
    log_pmf = np.array(
        [
            math.lgamma(j + dispersion)
            - math.lgamma(dispersion)
            - math.lgamma(j + 1)
            + dispersion * math.log(success)
            + (j * math.log(1 - success) if j else 0.0)
            for j in failures
        ]
    )
    pmf = np.exp(log_pmf)
    clicks = np.append(failures + 1, max_clicks)
    pmf = np.append(pmf, max(0.0, 1 - pmf.sum()))  # the rest is capped at max_clicks
    cart = float(params["cart_probability"])
    mean_clicks = float((pmf * clicks).sum())
    slots = clicks - (clicks >= 2)  # no cart slot between the last two clicks
    some_cart = 1 - float((pmf * (1 - cart) ** slots).sum())
    carts = cart * float((pmf * slots).sum())
    orders = some_cart * float(params["order_probability"]) * float(params["mean_orders"])
    return mean_clicks - 1, carts, orders


def revisit_by_type(params: dict) -> tuple[float, float, float]:
    """P(revisit) of a click, cart and order such that the share over all events after a
    session's first is ``revisit_share``, carts and orders having the configured odds ratios
    over clicks (carts and orders are mostly of items the session has seen, as on OTTO)."""
    share = float(params["revisit_share"])
    if share <= 0 or share >= 1:
        return (share, share, share)
    weights = np.asarray(expected_events(params))
    log_odds = np.log(
        [1.0, float(params["revisit_odds_carts"]), float(params["revisit_odds_orders"])]
    )

    def mean_share(level: float) -> float:
        return float((weights / (1 + np.exp(-(level + log_odds)))).sum() / weights.sum())

    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if mean_share(middle) < share else (low, middle)
    probabilities = 1 / (1 + np.exp(-((low + high) / 2 + log_odds)))
    return tuple(float(p) for p in probabilities)

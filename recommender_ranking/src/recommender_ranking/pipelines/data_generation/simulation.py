"""Weekly purchases from a known formula, and each customer's exact probabilities.

Customer c shops in week w with probability s_w(c) = 1 - exp(-rate_c * season_w / b) and then
buys a basket of N = 1 + Poisson(b - 1) items on one day (``items_per_basket`` b: few customers
buy in a week, those who do buy several, as in the real data); each item is drawn from a
mixture whose weights are the customer's own (``mix``):

- trend:      article a with probability pop_w(a) / sum(pop_w)          (popularity walks)
- repurchase: one of the customer's purchases of the last ``window`` weeks, uniformly
- variant:    a colour variant (same product_code) of such a purchase, uniformly
- taste:      a cell (product group, colour, price tier) from the customer's drifting
              tastes, then an article of that cell with probability proportional to pop_w

So P(buys a) = s_w(c) * (1 - (1 - p) * exp(-(b - 1) * p)) with p = p_w(a | c): the oracle's
exact probability (``buy_probability``).
Customers without purchases in the window put the repurchase and variant weight on taste.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .catalogue import GROUP_NAMES, N_TIERS
from .vocabulary import COLOURS, GROUP_SEASON_PEAK

MIX = ("trend", "repurchase", "variant", "taste")


@dataclass
class Market:
    """Everything the purchase formula needs, as arrays (customers x ..., articles x weeks)."""

    popularity: np.ndarray  # articles x weeks, 0 before launch
    group_taste: np.ndarray  # customers x groups x 2 (start, end of the period)
    colour_taste: np.ndarray  # customers x colours x 2
    tier_taste: np.ndarray  # customers x tiers
    price_level: np.ndarray  # customers: sets tier_taste (``price_sensitivity``)
    mix: np.ndarray  # customers x 4 (MIX)
    rate: np.ndarray  # expected items per week, customers
    basket_extra: float  # items of a basket beyond the first (Poisson mean)
    online_share: np.ndarray  # customers
    season: np.ndarray  # weeks
    group_season: np.ndarray  # weeks x groups
    cell: np.ndarray  # articles: group * (colours * tiers) + colour * tiers + tier
    product: np.ndarray  # articles: product index (articles of one product are contiguous)
    price: np.ndarray  # articles
    window: int


def build_market(rng, articles, customers, n_weeks, first_week_of_year, params) -> Market:
    n_articles, n_customers = len(articles), len(customers)
    # Popularity: a log random walk per article (items trend up and down), a launch boost.
    steps = rng.normal(0.0, params["popularity_walk_sd"], (n_articles, n_weeks))
    log_pop = rng.normal(0.0, params["popularity_spread"], (n_articles, 1)) + np.cumsum(steps, 1)
    age_weeks = np.arange(n_weeks)[None, :] - articles["_launch_week"].to_numpy()[:, None]
    log_pop += params["launch_boost"] * np.exp(-np.clip(age_weeks, 0, None) / 3.0)
    popularity = np.where(age_weeks >= 0, np.exp(log_pop), 0.0)

    age = customers["age"].fillna(customers["age"].median()).to_numpy()
    youth = np.clip((45.0 - age) / 30.0, -1, 1)  # > 0 young, < 0 older
    bright = np.array([c[3] in ("Bright", "Light") for c in COLOURS], dtype=float)
    young_groups = np.array([g in ("Swimwear", "Garment Full body", "Shoes") for g in GROUP_NAMES])
    concentration = params["taste_concentration"]
    group_base = np.exp(np.outer(youth, young_groups * 1.0))
    colour_base = np.exp(np.outer(youth, bright * 1.2))
    group_start = _dirichlet_rows(rng, concentration * group_base)
    colour_start = _dirichlet_rows(rng, concentration * colour_base)
    # Tastes drift: by the end of the period they have moved towards a nearby taste.
    drift = params["taste_drift"]
    group_end = (1 - drift) * group_start + drift * _dirichlet_rows(rng, concentration * group_base)
    colour_end = (1 - drift) * colour_start + drift * _dirichlet_rows(
        rng, concentration * colour_base
    )
    # The planted price signal no candidate source targets: a customer's price level sets his
    # taste for the price tier (``price_sensitivity`` 0: tier chosen regardless of it). The
    # draw is made whatever the sensitivity, so the random stream does not depend on it.
    price_level = rng.normal(0.0, 1.0, n_customers)
    sensitivity = float(params.get("price_sensitivity", 1.5))
    tier_taste = np.exp(sensitivity * np.outer(price_level, np.arange(N_TIERS) - 1.0))
    tier_taste /= tier_taste.sum(1, keepdims=True)

    weeks_of_year = (first_week_of_year + np.arange(n_weeks)) % 52
    season = 1.0 + params["season_amplitude"] * np.sin(2 * np.pi * (weeks_of_year - 13) / 52)
    peaks = np.array([GROUP_SEASON_PEAK[g] for g in GROUP_NAMES])
    group_season = np.exp(
        peaks[None, :, 1] * np.cos(2 * np.pi * (weeks_of_year[:, None] - peaks[None, :, 0]) / 52)
    )
    mean_rate = params["items_per_customer_week"]
    shape = params["activity_shape"]
    return Market(
        popularity=popularity,
        group_taste=np.stack([group_start, group_end], axis=2),
        colour_taste=np.stack([colour_start, colour_end], axis=2),
        tier_taste=tier_taste,
        price_level=price_level,
        mix=_dirichlet_rows(
            rng, np.tile(np.array([params["mix"][name] for name in MIX], float), (n_customers, 1))
        ),
        rate=rng.gamma(shape, mean_rate / shape, n_customers),
        basket_extra=float(params.get("items_per_basket", 1.0)) - 1.0,
        online_share=rng.beta(2.0, 1.2, n_customers),
        season=season,
        group_season=group_season,
        cell=(
            articles["_group"].to_numpy() * len(COLOURS) * N_TIERS
            + articles["_colour"].to_numpy() * N_TIERS
            + articles["_tier"].to_numpy()
        ),
        product=articles["_product"].to_numpy(),
        price=articles["_price"].to_numpy(),
        window=params["repurchase_window_weeks"],
    )


def _dirichlet_rows(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """One Dirichlet draw per row of ``alpha`` (vectorised through Gamma variables)."""
    draws = rng.gamma(alpha) + 1e-12
    return draws / draws.sum(1, keepdims=True)


def weekly_tastes(market: Market, week: int, n_weeks: int, customers: np.ndarray):
    """Group, colour and tier choice probabilities of ``customers`` in ``week``."""
    share = week / max(n_weeks - 1, 1)
    group = (1 - share) * market.group_taste[customers, :, 0] + share * market.group_taste[
        customers, :, 1
    ]
    group = group * market.group_season[week]
    group /= group.sum(1, keepdims=True)
    colour = (1 - share) * market.colour_taste[customers, :, 0] + share * market.colour_taste[
        customers, :, 1
    ]
    return group, colour, market.tier_taste[customers]


def cell_popularity(market: Market, week: int) -> np.ndarray:
    """Sum of pop_w over the articles of each cell (every cell has an article from week 0)."""
    n = len(GROUP_NAMES) * len(COLOURS) * N_TIERS
    return np.bincount(market.cell, weights=market.popularity[:, week], minlength=n)


def effective_mix(market: Market, customers: np.ndarray, has_history: np.ndarray) -> np.ndarray:
    mix = market.mix[customers].copy()
    mix[~has_history, 3] += mix[~has_history, 1] + mix[~has_history, 2]
    mix[~has_history, 1:3] = 0.0
    return mix


def simulate_week(rng, market: Market, week: int, n_weeks: int, history: pd.DataFrame):
    """One week's purchases: ``customer``, ``article``, ``day`` (0-6), ``channel``, ``price``.

    ``history`` holds the purchases (customer, article) of the last ``window`` weeks.
    """
    shoppers = np.flatnonzero(rng.random(len(market.rate)) < shop_probability(market, week))
    counts = 1 + rng.poisson(market.basket_extra, len(shoppers))
    buyers = np.repeat(shoppers, counts)
    basket_day = np.repeat(rng.integers(0, 7, len(shoppers)), counts)
    n_items = len(buyers)
    history = history.sort_values("customer", kind="stable")
    hist_customers = history["customer"].to_numpy()
    start = np.searchsorted(hist_customers, buyers, "left")
    n_hist = np.searchsorted(hist_customers, buyers, "right") - start
    mix = effective_mix(market, buyers, n_hist > 0)
    source = (rng.random((n_items, 1)) > np.cumsum(mix, 1)).sum(1)
    article = np.empty(n_items, dtype=np.int64)

    trend = source == 0
    pop = market.popularity[:, week]
    article[trend] = _draw(rng, np.cumsum(pop), trend.sum())

    past = (source == 1) | (source == 2)
    picked = start[past] + (rng.random(past.sum()) * n_hist[past]).astype(np.int64)
    article[past] = history["article"].to_numpy()[picked]
    variant = source == 2
    first, size = launched_variants(market, week, article[variant])
    article[variant] = first + (rng.random(variant.sum()) * size).astype(np.int64)

    taste = source == 3
    group, colour, tier = weekly_tastes(market, week, n_weeks, buyers[taste])
    cell = (
        _categorical(rng, group) * len(COLOURS) * N_TIERS
        + _categorical(rng, colour) * N_TIERS
        + _categorical(rng, tier)
    )
    # An article of the cell with probability proportional to pop_w: one cumulative sum over
    # the articles sorted by cell, and a uniform draw inside each cell's range.
    order = np.argsort(market.cell, kind="stable")
    cumulative = np.cumsum(pop[order])
    last = np.cumsum(np.bincount(market.cell, minlength=cell_popularity(market, week).size)) - 1
    cell_end = cumulative[last]
    cell_start = np.concatenate([[0.0], cell_end[:-1]])
    target = cell_end[cell] - (cell_end[cell] - cell_start[cell]) * rng.random(len(cell))
    position = np.minimum(np.searchsorted(cumulative, target, "left"), len(order) - 1)
    article[taste] = order[position]

    discount = np.where(rng.random(n_items) < 0.15, 0.7, 1.0)
    return pd.DataFrame(
        {
            "customer": buyers,
            "article": article,
            "day": basket_day,
            "channel": np.where(rng.random(n_items) < market.online_share[buyers], 2, 1),
            "price": np.round(market.price[article] * discount, 6),
        }
    )


def _draw(rng: np.random.Generator, cumulative: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(
        np.searchsorted(cumulative, rng.random(n) * cumulative[-1], "right"), len(cumulative) - 1
    )


def _categorical(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One draw per row of a probability matrix (inverse CDF, vectorised)."""
    cumulative = np.cumsum(probabilities, 1)
    return np.minimum(
        (rng.random((len(probabilities), 1)) * cumulative[:, -1:] > cumulative).sum(1),
        probabilities.shape[1] - 1,
    )


def shop_probability(market: Market, week: int, customers=slice(None)) -> np.ndarray:
    """P(the customer shops in ``week``): a basket of b items on average, rate_c items a week."""
    basket = market.basket_extra + 1.0
    return -np.expm1(-market.rate[customers] * market.season[week] / basket)


def buy_probability(market: Market, week: int, customers, choice: np.ndarray) -> np.ndarray:
    """P(the customer buys the article at least once in ``week``) from its choice probability
    ``choice`` (one draw): the basket's draws are independent, so none is the article with
    probability (1 - choice) * exp(-(b - 1) * choice) given a basket."""
    no_draw = (1.0 - choice) * np.exp(-market.basket_extra * choice)
    return shop_probability(market, week, customers) * (1.0 - no_draw)


def launched_variants(market: Market, week: int, articles: np.ndarray):
    """First article and number of launched variants of each article's product in ``week``.

    A product's articles are contiguous and launch in order (catalogue.py), so the launched
    ones are the first ``size`` of them; popularity is 0 before an article's launch."""
    first = np.searchsorted(market.product, market.product[articles], "left")
    last = np.searchsorted(market.product, market.product[articles], "right")
    on_sale = np.concatenate([[0], np.cumsum(market.popularity[:, week] > 0)])
    return first, on_sale[last] - on_sale[first]


def purchase_probabilities(
    market: Market, week: int, n_weeks: int, customers: np.ndarray, history: pd.DataFrame
) -> np.ndarray:
    """customers x articles: the exact P(customer buys article at least once in ``week``)."""
    pop = market.popularity[:, week]
    group, colour, tier = weekly_tastes(market, week, n_weeks, customers)
    n_colours = len(COLOURS)
    cell_total = cell_popularity(market, week)
    cell = market.cell
    g, c, t = cell // (n_colours * N_TIERS), (cell // N_TIERS) % n_colours, cell % N_TIERS
    in_window = history[history["customer"].isin(customers)]
    row = np.searchsorted(customers, in_window["customer"].to_numpy())
    n_hist = np.bincount(row, minlength=len(customers))
    mix = effective_mix(market, customers, n_hist > 0)
    choice = mix[:, [0]] * (pop / pop.sum())[None, :]
    choice += mix[:, [3]] * group[:, g] * colour[:, c] * tier[:, t] * (pop / cell_total[cell])
    hist_article = in_window["article"].to_numpy()
    weight = 1.0 / np.maximum(n_hist[row], 1)
    np.add.at(choice, (row, hist_article), mix[row, 1] * weight)
    # Variant: each past purchase spreads its weight over the launched articles of its product.
    first, size = launched_variants(market, week, hist_article)
    spread_row = np.repeat(row, size)
    spread_article = np.repeat(first, size) + (
        np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    )
    spread_weight = np.repeat(mix[row, 2] * weight / size, size)
    np.add.at(choice, (spread_row, spread_article), spread_weight)
    return buy_probability(market, week, customers[:, None], choice)

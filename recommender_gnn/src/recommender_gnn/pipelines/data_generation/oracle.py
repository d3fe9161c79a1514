"""What the generator knows about each test session's continuation, as top-20 lists.

clicks: the exact next-click distribution given the prefix (``next_click_distribution``: the
revisit, sequential, co-occurrence and popularity parts of ``simulation.simulate_sessions``
summed in closed form). carts and orders: the probability that an item is carted / ordered
after the cut, given the prefix and the session's latent skeleton (its true number of clicks,
its cart slots and order batch) but none of the future draws: the rest of the session is
simulated ``samples`` times from the true process (fewer when a chunk would exceed
``max_paths`` continuations); half of them choose the listed items, the other half estimate
their probabilities, so that the listed probabilities are unbiased. A model sees less than
that, so in expectation no model beats it (up to the Monte Carlo error).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender_gnn.sorting import lexsort

from .shop import Shop
from .simulation import CELLS, Skeleton, members, simulate_sessions, step_weights


def _day_values(shop: Shop, days: np.ndarray, items: np.ndarray) -> np.ndarray:
    values = np.empty(len(items))
    for day in np.unique(days):
        on_day = days == day
        values[on_day] = shop.popularity(day)[items[on_day]]
    return values


def _block(
    shop: Shop, state, current, previous, days, forbidden, top
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_rows, n_items = len(state), shop.n_items
    revisit = shop.revisit[0]
    sequential, cooccurrence, jump = shop.shares
    row_index = np.arange(n_rows)
    filled_rows, filled_cols = np.nonzero(state >= 0)
    filled_items = state[filled_rows, filled_cols].astype(np.int64)
    positions = np.bincount(filled_rows, minlength=n_rows)
    revisit_share = np.where(positions > 0, revisit, 0.0)
    new = 1 - revisit_share
    keys = [filled_rows * n_items + filled_items]
    masses = [revisit_share[filled_rows] / positions[filled_rows]]

    successors = shop.successors[np.maximum(current, 0)].astype(np.int64)
    weights = step_weights(shop, previous, np.maximum(current, 0))
    weights = weights * ~members(state, successors) * (current >= 0)[:, None]
    total = weights.sum(axis=1)
    walk = total > 0
    keys.append((row_index[:, None] * n_items + successors)[walk].ravel())
    masses.append((new * sequential)[walk, None] * weights[walk] / total[walk, None])
    fallback = new * sequential * ~walk

    neighbours = shop.bundle_members[shop.bundle[filled_items]].astype(np.int64)
    open_items = (neighbours >= 0) & ~members(state[filled_rows], neighbours)
    count = open_items.sum(axis=1)
    share = new[filled_rows] * cooccurrence / positions[filled_rows]
    keys.append((filled_rows[:, None] * n_items + neighbours)[open_items])
    masses.append(
        np.broadcast_to((share / np.maximum(count, 1))[:, None], open_items.shape)[open_items]
    )
    fallback += np.bincount(filled_rows, weights=share * (count == 0), minlength=n_rows)
    fallback += new * cooccurrence * (positions == 0)
    jump_mass = new * jump + fallback

    # Outside these candidates an item only has popularity mass: the day's most popular items
    # beyond the session's own (and the forbidden one) complete the top exactly.
    needed = top + state.shape[1] + 1  # a power of two: the per-day lists are cached
    popular = shop.most_popular(1 << (needed - 1).bit_length(), days)[:, :needed].astype(np.int64)
    enough = np.arange(popular.shape[1]) < (top + positions + 1)[:, None]
    keys.append((row_index[:, None] * n_items + popular)[enough])
    masses.append(np.zeros(int(enough.sum())))
    state_keys = np.unique(keys[0])
    state_rows = state_keys // n_items
    state_popularity = _day_values(shop, days[state_rows], state_keys % n_items)
    remaining = 1 - np.bincount(state_rows, weights=state_popularity, minlength=n_rows)

    keys, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    mass = np.bincount(inverse, weights=np.concatenate([np.ravel(m) for m in masses]))
    rows, items = keys // n_items, keys % n_items
    outside = ~np.isin(keys, state_keys, assume_unique=True)
    mass += outside * jump_mass[rows] * _day_values(shop, days[rows], items) / remaining[rows]
    if forbidden is not None and (forbidden >= 0).any():
        # The prefix ends with a new cart drawn after this click: the click is not that item.
        hit = np.isin(keys, (row_index * n_items + forbidden)[forbidden >= 0])
        lost = np.bincount(rows[hit], weights=mass[hit], minlength=n_rows)
        mass[hit] = 0.0
        mass /= 1 - lost[rows]
    order = lexsort((items, -mass, rows))
    rows, items, mass = rows[order], items[order], mass[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
    best = (rank < top) & (mass > 0)
    return rows[best], items[best], mass[best]


def next_click_distribution(
    shop: Shop,
    state: np.ndarray,
    current: np.ndarray,
    previous: np.ndarray,
    days: np.ndarray,
    forbidden: np.ndarray | None = None,
    top: int = 20,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact top-``top`` of P(next click) per row: (row, item, probability) arrays.

    ``state`` (rows, width) holds the items the next click's draw sees (-1: none), ``current``
    and ``previous`` the last two clicks (-1: none), ``forbidden`` a new cart of the prefix
    drawn after the click (-1: none).
    """
    width = max(1, state.shape[1]) * (shop.bundle_members.shape[1] + top)
    block = max(1, CELLS // width)
    parts = []
    for start in range(0, len(state), block):
        part = slice(start, start + block)
        rows, items, mass = _block(
            shop,
            state[part],
            current[part],
            previous[part],
            days[part],
            None if forbidden is None else forbidden[part],
            top,
        )
        parts.append((rows + start, items, mass))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return tuple(np.concatenate(values) for values in zip(*parts, strict=True))


def prefix_state(
    items: np.ndarray, types: np.ndarray, click_col: np.ndarray, cut: np.ndarray
) -> tuple[np.ndarray, ...]:
    """(has next click, state, current, previous, forbidden) after the first ``cut`` columns,
    as the draw of the next click sees them (a trailing cart is drawn after that click)."""
    rows = np.arange(len(cut))
    last_type = types[rows, cut - 1]
    clicks = ((types == 0) & (np.arange(types.shape[1]) < cut[:, None])).sum(axis=1)
    has_next = (last_type < 2) & ((types == 0).sum(axis=1) > clicks)
    trailing_cart = last_type == 1
    limit = cut - trailing_cart
    width = int(limit.max(initial=0))
    state = np.where(np.arange(width) < limit[:, None], items[:, :width], -1)
    current = items[rows, click_col[rows, clicks - 1]].astype(np.int64)
    previous = np.where(
        clicks >= 2, items[rows, click_col[rows, np.maximum(clicks - 2, 0)]], -1
    ).astype(np.int64)
    cart = np.where(trailing_cart, items[rows, cut - 1], -1).astype(np.int64)
    forbidden = np.where(members(state, cart[:, None])[:, 0], -1, cart)
    return has_next, state, current, previous, forbidden


def _future_buys(
    rng: np.random.Generator,
    shop: Shop,
    skeleton: Skeleton,
    items: np.ndarray,
    types: np.ndarray,
    cut: np.ndarray,
    samples: int,
    max_paths: int,
) -> pd.DataFrame:
    """(row, type, item, rank, probability): the share of simulated continuations that cart /
    order the item after the cut. Sessions with no cart or order slot after the cut are skipped,
    clicks after a session's last buying slot are not simulated (they cannot change it), and
    a chunk simulates at most ``max_paths`` continuations (fewer samples per session)."""
    after_cut = np.arange(types.shape[1]) >= cut[:, None]
    buying = np.flatnonzero((after_cut & (types > 0)).any(axis=1))
    samples = max(2, min(samples, max_paths // max(1, buying.size))) // 2 * 2
    last_cart = skeleton.carts.shape[1] - 1 - np.argmax(skeleton.carts[:, ::-1], axis=1)
    n_clicks = np.where(
        skeleton.n_orders > 0,
        skeleton.n_clicks,
        np.minimum(skeleton.n_clicks, last_cart + 2),  # the click after a cart can drop it
    )
    trimmed = Skeleton(skeleton.days, n_clicks, skeleton.carts, skeleton.n_orders)
    # Batches of similar sessions, shortest first: each batch is only as wide as its longest.
    widths = (types >= 0).sum(axis=1)
    buying = buying[np.argsort(widths[buying], kind="stable")]
    frames, start = [], 0
    while start < buying.size:
        cells = np.arange(1, buying.size - start + 1) * widths[buying[start:]] * samples
        end = start + max(1, int(np.searchsorted(cells, CELLS, side="right")))
        part, width = buying[start:end], int(widths[buying[end - 1]])
        repeat = np.repeat(part, samples)
        walked, kinds = simulate_sessions(
            rng,
            shop,
            trimmed.take(repeat),
            np.repeat(items[part, :width], samples, axis=0),
            cut[repeat],
        )
        after = (np.arange(walked.shape[1]) >= cut[repeat][:, None]) & (kinds > 0)
        path, column = np.nonzero(after & (walked >= 0))
        frames.append(
            pd.DataFrame(
                {
                    "path": path + start * samples,
                    "row": repeat[path],
                    "type": kinds[path, column],
                    "item": walked[path, column],
                }
            ).drop_duplicates()
        )
        start = end
    if not frames:
        return pd.DataFrame({"row": [], "type": [], "item": [], "rank": [], "probability": []})
    future = pd.concat(frames, ignore_index=True)
    # Half of the continuations choose the listed items, the other half estimate their
    # probabilities: estimates from the samples that chose them would be biased upwards.
    estimate = (future["path"] % samples >= samples // 2).to_numpy()
    keys = ["row", "type", "item"]
    chosen = future[~estimate].groupby(keys).size().rename("chosen")
    counts = chosen.to_frame().join(future[estimate].groupby(keys).size().rename("seen"))
    counts = counts.fillna(0).reset_index()
    return pd.DataFrame(
        {
            "row": counts["row"],
            "type": counts["type"],
            "item": counts["item"],
            "rank": -counts["chosen"] / (samples // 2),
            "probability": counts["seen"] / (samples - samples // 2),
        }
    )


def oracle_lists(
    rng: np.random.Generator,
    shop: Shop,
    skeleton: Skeleton,
    items: np.ndarray,
    types: np.ndarray,
    cut: np.ndarray,
    samples: int,
    max_paths: int,
) -> pd.DataFrame:
    """(row, event_type, item, probability), top 20 per row and event type; ``row`` indexes
    the given test sessions, each cut after its first ``cut`` columns."""
    _, click_col, _ = skeleton.layout()
    has_next, state, current, previous, forbidden = prefix_state(items, types, click_col, cut)
    with_next = np.flatnonzero(has_next)
    rows, next_items, probability = next_click_distribution(
        shop,
        state[with_next],
        current[with_next],
        previous[with_next],
        skeleton.days[with_next],
        forbidden[with_next],
    )
    clicks = pd.DataFrame(
        {
            "row": with_next[rows],
            "type": 0,
            "item": next_items,
            "rank": -probability,
            "probability": probability,
        }
    )
    buys = _future_buys(rng, shop, skeleton, items, types, cut, samples, max_paths)
    lists = pd.concat([clicks, buys], ignore_index=True)
    order = lexsort([lists[name].to_numpy() for name in ("item", "rank", "type", "row")])
    lists = lists.iloc[order]
    lists = lists[lists.groupby(["row", "type"]).cumcount().to_numpy() < 20]
    names = np.asarray(["clicks", "carts", "orders"])
    return pd.DataFrame(
        {
            "row": lists["row"].to_numpy(dtype=np.int64),
            "event_type": names[lists["type"].to_numpy(dtype=np.int64)],
            "item": lists["item"].to_numpy(dtype=np.int64),
            "probability": lists["probability"].to_numpy(dtype=float),
        }
    )

"""Sessions drawn event by event from the shop (``shop.py``), vectorised over sessions.

A session's *skeleton* is latent and drawn first: its number of clicks, after which clicks a
cart follows, and, in sessions with a cart, an order batch at the end. Then every event gets an
item: with probability ``revisit`` (per event type) an item the session already has, otherwise a
new item (never one the session has; every draw below is renormalised over the rest):
- a click revisits a uniformly chosen earlier event's item; a new click comes from the
  successors of the current click (``sequential``), the bundle of a uniformly chosen earlier
  item (``co-occurrence``: neither order nor position matters) or the day's popularity
  (``jump``), in the configured shares; a part with nothing left falls back to popularity;
- a cart revisits a clicked item by its cart propensity (the click just before counting
  ``cart_last_click_boost`` times); a new cart is drawn like a new click, weighted by the
  cart propensity;
- an order revisits a carted item not yet ordered (else a clicked one) by its order
  propensity; a new order is drawn like a new click, weighted by the order propensity.
The item of a cart that sits between clicks t and t+1 is drawn *after* click t+1 and the cart
is dropped if it is that click: so the next click never depends on a cart the oracle has not
seen, and its distribution stays exact (``oracle.next_click_distribution``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shop import Shop

CELLS = 2**24  # elements per membership block: bounds the temporary memory of a draw


@dataclass(frozen=True)
class Skeleton:
    days: np.ndarray  # (rows,) day of each session
    n_clicks: np.ndarray  # (rows,) >= 1
    carts: np.ndarray  # (rows, max clicks) bool: a cart follows click t (only t < n_clicks)
    n_orders: np.ndarray  # (rows,) orders at the end (0: none)

    def take(self, index: np.ndarray) -> Skeleton:
        """These rows, as narrow as their longest session."""
        width = int(self.n_clicks[index].max(initial=1))
        return Skeleton(
            self.days[index], self.n_clicks[index], self.carts[index, :width], self.n_orders[index]
        )

    def layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(types (rows, width) int8, -1 after the end; column of click t; first order column)."""
        rows, max_clicks = self.carts.shape
        click_col = (
            np.arange(max_clicks) + np.cumsum(self.carts, axis=1, dtype=np.int32) - self.carts
        )
        order_start = self.n_clicks + self.carts.sum(axis=1)
        width = int((order_start + self.n_orders).max(initial=1))
        types = np.full((rows, width), -1, dtype=np.int8)
        row, t = np.nonzero(np.arange(max_clicks) < self.n_clicks[:, None])
        types[row, click_col[row, t]] = 0
        row, t = np.nonzero(self.carts)
        types[row, click_col[row, t] + 1] = 1
        row, k = np.nonzero(np.arange(int(self.n_orders.max(initial=0))) < self.n_orders[:, None])
        types[row, order_start[row] + k] = 2
        return types, click_col, order_start


def draw_skeleton(rng: np.random.Generator, days: np.ndarray, params: dict) -> Skeleton:
    """Latent session shapes: lengths, cart slots and order batches (``shop.expected_events``)."""
    extra, dispersion = float(params["mean_clicks"]) - 1, float(params["length_dispersion"])
    n_clicks = 1 + rng.negative_binomial(dispersion, dispersion / (dispersion + extra), len(days))
    n_clicks = np.minimum(n_clicks, int(params["max_clicks"]))
    width = int(n_clicks.max(initial=1))
    carts = rng.random((len(days), width)) < float(params["cart_probability"])
    # No cart slot between the last two clicks: a cart dropped there would leave the test cut
    # nowhere to go (``nodes._truncate``).
    position = np.arange(width)
    carts &= (position < n_clicks[:, None]) & (position != n_clicks[:, None] - 2)
    orders = carts.any(axis=1) & (rng.random(len(days)) < float(params["order_probability"]))
    n_orders = 1 + rng.poisson(float(params["mean_orders"]) - 1, len(days))
    n_orders = np.where(orders, np.minimum(n_orders, int(params["max_orders"])), 0)
    return Skeleton(days.astype(np.int64), n_clicks.astype(np.int64), carts, n_orders)


def members(state: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(rows, k) bool: is ``candidates[r, j]`` among the items of ``state[r]`` (-1: none)."""
    found = np.zeros(candidates.shape, dtype=bool)
    if state.shape[1] == 0 or candidates.size == 0:
        return found
    block = max(1, CELLS // (state.shape[1] * candidates.shape[1]))
    for start in range(0, len(state), block):
        part = slice(start, start + block)
        found[part] = (state[part, None, :] == candidates[part, :, None]).any(axis=2)
    return found & (candidates >= 0)


def _sample(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One column per row, proportional to ``weights`` (-1 where a row has none)."""
    cumulative = np.cumsum(weights, axis=1)
    total = cumulative[:, -1] if weights.shape[1] else np.zeros(len(weights))
    draws = rng.random(len(weights)) * total
    picked = (cumulative <= draws[:, None]).sum(axis=1)
    return np.where(total > 0, np.minimum(picked, weights.shape[1] - 1), -1)


def _uniform_item(rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
    """The item of a uniformly chosen filled position of each row (-1 if none): rejection,
    since a state is filled up to its end but for the rare dropped cart."""
    result = np.full(len(state), -1, dtype=np.int64)
    if state.shape[1] == 0:
        return result
    filled = state >= 0
    end = state.shape[1] - np.argmax(filled[:, ::-1], axis=1)
    pending = np.flatnonzero(filled.any(axis=1))
    while pending.size:
        drawn = state[pending, (rng.random(pending.size) * end[pending]).astype(np.int64)]
        result[pending] = drawn
        pending = pending[drawn < 0]
    return result


def step_weights(shop: Shop, previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Successor weights of ``current`` with the intent boost of ``previous`` (-1: none)."""
    same = (
        shop.category[shop.successors[current]]
        == np.where(previous >= 0, shop.category[np.maximum(previous, 0)], -1)[:, None]
    )
    boosted = shop.weights[current] * np.where(same, shop.intent_boost, 1.0)
    return boosted / boosted.sum(axis=1, keepdims=True)


def _popular(rng: np.random.Generator, shop: Shop, days: np.ndarray) -> np.ndarray:
    draws = rng.random(len(days))
    picked = np.empty(len(days), dtype=np.int64)
    for day in np.unique(days):
        on_day = days == day
        cumulative = shop.cumulative(day)
        picked[on_day] = np.searchsorted(cumulative, draws[on_day] * cumulative[-1], side="right")
    return np.minimum(picked, shop.n_items - 1)


def _popular_new(
    rng: np.random.Generator, shop: Shop, state: np.ndarray, days: np.ndarray, propensity
) -> np.ndarray:
    """Popularity (times ``propensity``) over the items not in ``state``: rejection."""
    result = np.empty(len(state), dtype=np.int64)
    pending = np.arange(len(state))
    while pending.size:
        candidates = _popular(rng, shop, days[pending])
        ok = ~members(state[pending], candidates[:, None])[:, 0]
        if propensity is not None:
            ok &= rng.random(pending.size) < propensity[candidates]
        result[pending[ok]] = candidates[ok]
        pending = pending[~ok]
    return result


def draw_new(
    rng: np.random.Generator,
    shop: Shop,
    state: np.ndarray,
    current: np.ndarray,
    previous: np.ndarray,
    days: np.ndarray,
    propensity: np.ndarray | None = None,
) -> np.ndarray:
    """A new item per row (never in ``state``): sequential, co-occurrence or popularity."""
    result = np.full(len(state), -1, dtype=np.int64)
    sequential, cooccurrence, _ = shop.shares
    part = rng.random(len(state))
    rows = np.flatnonzero((part < sequential) & (current >= 0))
    if rows.size:
        successors = shop.successors[current[rows]]
        weights = step_weights(shop, previous[rows], current[rows])
        if propensity is not None:
            weights = weights * propensity[successors]
        weights = weights * ~members(state[rows], successors)
        picked = _sample(rng, weights)
        ok = picked >= 0
        result[rows[ok]] = successors[ok, picked[ok]]
    rows = np.flatnonzero((part >= sequential) & (part < sequential + cooccurrence))
    if rows.size:
        anchor = _uniform_item(rng, state[rows])
        rows, anchor = rows[anchor >= 0], anchor[anchor >= 0]
        neighbours = shop.bundle_members[shop.bundle[anchor]]
        weights = (~members(state[rows], neighbours) & (neighbours >= 0)).astype(float)
        if propensity is not None:
            weights *= propensity[np.maximum(neighbours, 0)]
        picked = _sample(rng, weights)
        ok = picked >= 0
        result[rows[ok]] = neighbours[ok, picked[ok]]
    rows = np.flatnonzero(result < 0)
    if rows.size:
        result[rows] = _popular_new(rng, shop, state[rows], days[rows], propensity)
    return result


def _state(items: np.ndarray, rows: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """The items of columns < ``limit`` of each row (-1 elsewhere)."""
    width = int(limit.max(initial=0))
    return np.where(np.arange(width) < limit[:, None], items[rows, :width], -1)


def _click_at(items, click_col, rows, t) -> np.ndarray:
    if t < 0:
        return np.full(len(rows), -1, dtype=np.int64)
    return items[rows, click_col[rows, t]].astype(np.int64)


def _draw_clicks(rng, shop, skeleton, items, click_col, cut, t) -> None:
    rows = np.flatnonzero((skeleton.n_clicks > t) & (click_col[:, t] >= cut))
    if rows.size == 0:
        return
    cart_before = skeleton.carts[rows, t - 1] if t else np.zeros(rows.size, dtype=bool)
    state = _state(items, rows, click_col[rows, t] - cart_before)
    # A cart before this click that is already fixed (an oracle's prefix) was drawn after it:
    # if it was new, this click is not that item (the posterior of the deferred draw).
    forbidden = np.full(rows.size, -1, dtype=np.int64)
    given = np.flatnonzero(cart_before & (click_col[rows, t] - 1 < cut[rows]))
    if given.size:
        cart = items[rows[given], click_col[rows[given], t] - 1].astype(np.int64)
        new = ~members(state[given], cart[:, None])[:, 0]
        forbidden[given[new]] = cart[new]
    current = _click_at(items, click_col, rows, t - 1)
    previous = _click_at(items, click_col, rows, t - 2)
    days = skeleton.days[rows]
    result = np.empty(rows.size, dtype=np.int64)
    pending = np.arange(rows.size)
    while pending.size:
        drawn = _uniform_item(rng, state[pending])
        new = (rng.random(pending.size) >= shop.revisit[0]) | (drawn < 0)
        fresh = pending[new]
        drawn[new] = draw_new(rng, shop, state[fresh], current[fresh], previous[fresh], days[fresh])
        ok = drawn != forbidden[pending]
        result[pending[ok]] = drawn[ok]
        pending = pending[~ok]
    items[rows, click_col[rows, t]] = result


def _draw_carts(rng, shop, skeleton, items, types, click_col, cut, g) -> None:
    """The carts after click ``g``, drawn once click g+1 is known."""
    rows = np.flatnonzero(skeleton.carts[:, g] & (click_col[:, g] + 1 >= cut))
    if rows.size == 0:
        return
    column = click_col[rows, g] + 1
    state = _state(items, rows, column)
    clicked = (types[rows, : state.shape[1]] == 0) & (state >= 0)
    weights = clicked * shop.cart_propensity[np.maximum(state, 0)]
    last = np.arange(state.shape[1]) == click_col[rows, g][:, None]
    weights = weights * np.where(last, shop.cart_last_click_boost, 1.0)
    revisit = rng.random(rows.size) < shop.revisit[1]
    picked = _sample(rng, weights)
    drawn = state[np.arange(rows.size), np.maximum(picked, 0)].astype(np.int64)
    new = np.flatnonzero(~revisit)
    drawn[new] = draw_new(
        rng,
        shop,
        state[new],
        _click_at(items, click_col, rows[new], g),
        _click_at(items, click_col, rows[new], g - 1),
        skeleton.days[rows[new]],
        shop.cart_propensity,
    )
    followed = skeleton.n_clicks[rows] > g + 1
    next_click = np.where(followed, items[rows, np.where(followed, column + 1, 0)], -1)
    items[rows, column] = np.where(~revisit & (drawn == next_click), -1, drawn)


def _draw_orders(rng, shop, skeleton, items, types, click_col, order_start, cut) -> None:
    for k in range(int(skeleton.n_orders.max(initial=0))):
        rows = np.flatnonzero((skeleton.n_orders > k) & (order_start + k >= cut))
        if rows.size == 0:
            continue
        state = _state(items, rows, order_start[rows] + k)
        kinds = types[rows, : state.shape[1]]
        earlier_orders = items[rows[:, None], order_start[rows][:, None] + np.arange(k)]
        open_items = (state >= 0) & ~members(earlier_orders, state)
        propensity = shop.order_propensity[np.maximum(state, 0)]
        carted = _sample(rng, (kinds == 1) * open_items * propensity)
        clicked = _sample(rng, (kinds == 0) * open_items * propensity)
        picked = np.where(carted >= 0, carted, clicked)
        revisit = (rng.random(rows.size) < shop.revisit[2]) & (picked >= 0)
        drawn = state[np.arange(rows.size), np.maximum(picked, 0)].astype(np.int64)
        new, last = np.flatnonzero(~revisit), skeleton.n_clicks[rows] - 1
        drawn[new] = draw_new(
            rng,
            shop,
            state[new],
            _click_at_rows(items, click_col, rows[new], last[new]),
            _click_at_rows(items, click_col, rows[new], last[new] - 1),
            skeleton.days[rows[new]],
            shop.order_propensity,
        )
        items[rows, order_start[rows] + k] = drawn


def _click_at_rows(items, click_col, rows, t: np.ndarray) -> np.ndarray:
    clicked = items[rows, click_col[rows, np.maximum(t, 0)]].astype(np.int64)
    return np.where(t >= 0, clicked, -1)


def simulate_sessions(
    rng: np.random.Generator,
    shop: Shop,
    skeleton: Skeleton,
    given: np.ndarray | None = None,
    cut: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(items, types), both (rows, width) in time order; item -1: no event (after the end, or a
    dropped cart). ``given`` fixes the first ``cut`` columns of each row (an oracle's prefix):
    the rest is drawn from the true process given them."""
    types, click_col, order_start = skeleton.layout()
    rows, width = types.shape
    items = np.full((rows, width), -1, dtype=np.int32)
    if given is None:
        cut = np.zeros(rows, dtype=np.int64)
    else:
        given = given[:, :width]
        kept = np.arange(given.shape[1]) < cut[:, None]
        items[:, : given.shape[1]] = np.where(kept, given, -1)
    for t in range(skeleton.carts.shape[1] + 1):
        if t < skeleton.carts.shape[1]:
            _draw_clicks(rng, shop, skeleton, items, click_col, cut, t)
        if t >= 1:
            _draw_carts(rng, shop, skeleton, items, types, click_col, cut, t - 1)
    _draw_orders(rng, shop, skeleton, items, types, click_col, order_start, cut)
    return items, types


def simulate_clicks(
    rng: np.random.Generator, shop: Shop, days: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """(sessions, max length) clicked items, -1 after each session's end: clicks only."""
    width = int(lengths.max(initial=1))
    skeleton = Skeleton(
        days.astype(np.int64),
        lengths.astype(np.int64),
        np.zeros((len(lengths), width), dtype=bool),
        np.zeros(len(lengths), dtype=np.int64),
    )
    items, _ = simulate_sessions(rng, shop, skeleton)
    return items.astype(np.int64)

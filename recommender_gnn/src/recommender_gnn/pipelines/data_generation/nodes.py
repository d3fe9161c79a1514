"""Seeded OTTO-format sessions with an exact next-click oracle, and H&M-shaped transactions.

``generate_otto_sessions`` is a generator node: it yields one chunk of sessions at a time and
the catalog appends each chunk, so ``scale`` can reach OTTO's size (12.9 M sessions) without
the data in memory. The shop (``shop.py``) is built once from ``seed``; chunk ``c`` draws its
sessions (``simulation.py``) from ``[seed, c]``, so a run is deterministic for a given seed
and ``chunk_sessions``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..data_preparation.splits import EVENT_TYPES
from .oracle import oracle_lists
from .shop import Shop, build_shop, revisit_by_type
from .simulation import draw_skeleton, simulate_clicks, simulate_sessions

logger = logging.getLogger(__name__)
DAY = 86_400
ORDER_DELAY = 60  # seconds from the last click to the order batch


def _check(params: dict[str, Any]) -> None:
    """Reject impossible settings before anything is written, naming the parameter."""
    positive = ("n_sessions", "n_items", "n_days", "test_days", "chunk_sessions", "scale")
    for name in (*positive, "oracle_samples", "oracle_max_paths", "bundle_size", "max_orders"):
        if not float(params[name]) > 0:
            raise ValueError(f"data_generation.{name} must be > 0, got {params[name]!r}")
    if int(params["test_days"]) >= int(params["n_days"]):
        raise ValueError(
            f"data_generation.test_days ({params['test_days']}) must be smaller than "
            f"data_generation.n_days ({params['n_days']}): the days before it are for training"
        )
    for name in ("revisit_share", "cart_probability", "order_probability"):
        if not 0 <= float(params[name]) <= 1:
            raise ValueError(f"data_generation.{name} must be in [0, 1], got {params[name]!r}")
    for name in ("mean_clicks", "mean_orders"):
        if not float(params[name]) >= 1:
            raise ValueError(f"data_generation.{name} must be >= 1, got {params[name]!r}")
    shares = [
        float(params[name]) for name in ("sequential_share", "cooccurrence_share", "jump_share")
    ]
    if min(shares) < 0 or abs(sum(shares) - 1) > 1e-9:
        raise ValueError(
            "data_generation.sequential_share + cooccurrence_share + jump_share must be 1 "
            f"(each >= 0), got {shares}"
        )
    n_items = _sizes(params)[1]
    if int(params["max_clicks"]) > n_items // 4:
        # New items are drawn from those the session has not had yet: a session must not be
        # able to exhaust the catalogue.
        raise ValueError(
            f"data_generation.max_clicks ({params['max_clicks']}) must be at most a quarter of "
            f"the items ({n_items} at this scale): raise n_items or lower max_clicks"
        )


def _sizes(params: dict[str, Any]) -> tuple[int, int]:
    scale = float(params["scale"])
    return max(2, round(params["n_sessions"] * scale)), max(4, round(params["n_items"] * scale))


def otto_shop(params: dict[str, Any], seed: int) -> tuple[Shop, np.ndarray]:
    """(shop, original aid of each item): the same for every chunk of a run."""
    _, n_items = _sizes(params)
    rng = np.random.default_rng(seed)
    shop = build_shop(rng, n_items, int(params["n_days"]), params, revisit_by_type(params))
    aids = rng.permutation(n_items).astype(np.int64) * 7 + 11  # original ids differ from ours
    return shop, aids


def _events(rng: np.random.Generator, items: np.ndarray, types: np.ndarray, params) -> pd.DataFrame:
    """(row, col, item, type, offset) of every slot in time order (item -1: a dropped cart):
    clicks ``mean_gap_seconds`` apart on average, a cart a second after its click, orders
    after the last click."""
    rows, cols = np.nonzero(types >= 0)
    kinds = types[rows, cols]
    gaps = 2 + rng.exponential(float(params["mean_gap_seconds"]), len(rows)).astype(np.int64)
    first = np.ones(len(rows), dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    gaps[first | (kinds > 0)] = 0
    running = np.cumsum(gaps)
    offsets = running - running[np.flatnonzero(first)][np.cumsum(first) - 1]
    order_rank = pd.Series(kinds == 2).groupby(rows).cumsum().to_numpy()
    offsets += np.where(kinds == 1, 1, 0) + np.where(kinds == 2, ORDER_DELAY + order_rank, 0)
    return pd.DataFrame(
        {"row": rows, "col": cols, "item": items[rows, cols], "type": kinds, "offset": offsets}
    )


def _truncate(
    rng: np.random.Generator, events: pd.DataFrame, items: np.ndarray, rows: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """(prefix, labels, cut) of the test sessions ``rows``, as OTTO's script cuts (uniform,
    labels as in ``data_preparation.splits.truncate_sessions``) but over the sessions' slots:
    whether a cart is dropped depends on the click after it, so a cut counted in emitted events
    would tell the oracle something about the future. A cut just after a dropped cart moves
    past the click that dropped it (there always is a later slot: ``draw_skeleton``)."""
    n_slots = events.groupby("row").size().reindex(rows).to_numpy()
    cut = rng.integers(1, n_slots)
    cut += items[rows, cut - 1] < 0
    emitted = events[events["item"] >= 0]
    in_prefix = emitted["col"].to_numpy() < cut[np.searchsorted(rows, emitted["row"])]
    prefix, remainder = emitted[in_prefix], emitted[~in_prefix]
    next_clicks = remainder[remainder["type"] == 0].drop_duplicates("row")
    later = remainder[remainder["type"] > 0].drop_duplicates(["row", "type", "item"])
    labels = pd.concat([next_clicks, later])
    labels = pd.DataFrame(
        {
            "session": labels["session"].astype("int64"),
            "event_type": EVENT_TYPES[labels["type"].astype(int).to_numpy()],
            "aid": labels["aid"].astype("int64"),
        }
    ).sort_values(["session", "event_type"], kind="stable")
    return prefix, labels.reset_index(drop=True), cut


def _chunk(
    shop: Shop, aids: np.ndarray, params: dict, seed: int, chunk: int, lo: int, hi: int, n: int
) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng([seed, chunk])
    session_ids = np.arange(lo, hi)
    n_days, start_ts = int(params["n_days"]), int(params["start_ts"])
    starts = ((session_ids + rng.random(len(session_ids))) / n * n_days * DAY).astype(np.int64)
    skeleton = draw_skeleton(rng, np.minimum(starts // DAY, n_days - 1), params)
    items, types = simulate_sessions(rng, shop, skeleton)
    events = _events(rng, items, types, params)
    events["session"] = session_ids[events["row"]]
    events["ts"] = start_ts + starts[events["row"]] + events["offset"]
    events["aid"] = np.where(events["item"] >= 0, aids[events["item"]], -1)

    cutoff = start_ts + (n_days - int(params["test_days"])) * DAY
    is_test = start_ts + starts >= cutoff
    train = events[~is_test[events["row"]] & (events["ts"] < cutoff) & (events["item"] >= 0)]
    rows = np.flatnonzero(is_test & ((types >= 0).sum(axis=1) >= 2))  # OTTO drops the rest
    prefix, labels, cut = _truncate(rng, events[np.isin(events["row"], rows)], items, rows)
    oracle = oracle_lists(
        rng,
        shop,
        skeleton.take(rows),
        items[rows],
        types[rows],
        cut,
        int(params["oracle_samples"]),
        int(params["oracle_max_paths"]),
    )
    oracle = pd.DataFrame(
        {
            "session": session_ids[rows[oracle["row"]]],
            "event_type": oracle["event_type"],
            "aid": aids[oracle["item"]],
            "probability": oracle["probability"],
        }
    )
    columns = ["session", "aid", "ts", "type"]
    return _typed(train[columns]), _typed(prefix[columns]), labels, oracle


def _typed(events: pd.DataFrame) -> pd.DataFrame:
    return events.astype({"session": "int64", "aid": "int64", "ts": "int64", "type": "int8"})


def generate_otto_sessions(params: dict[str, Any], seed: int) -> Iterator[tuple[pd.DataFrame, ...]]:
    """Yield (train, test prefix, test labels, train, test prefix, oracle) per chunk: the
    JSON-lines files, their Parquet twins and the oracle's continuation probabilities."""
    _check(params)
    n_sessions, _ = _sizes(params)
    shop, aids = otto_shop(params, seed)
    chunk_size = int(params["chunk_sessions"])
    for chunk, lo in enumerate(range(0, n_sessions, chunk_size)):
        hi = min(lo + chunk_size, n_sessions)
        train, test, labels, oracle = _chunk(shop, aids, params, seed, chunk, lo, hi, n_sessions)
        logger.info(
            "generated sessions %d-%d: %d train events, %d test sessions",
            lo,
            hi - 1,
            len(train),
            test["session"].nunique(),
        )
        yield train, test, labels, train, test, oracle


def generate_hm_transactions(params: dict[str, Any], seed: int) -> pd.DataFrame:
    """H&M ``transactions_train.csv`` in shape: each customer's purchases are drawn like the
    clicks of a session (same kind of shop; ``revisit_share`` of the purchases after the first
    repeat an earlier article), weeks playing the role of days."""
    scale = float(params["scale"])
    n_customers = max(2, round(params["n_customers"] * scale))
    n_articles = max(4, round(params["n_articles"] * scale))
    first_day, last_day = pd.Timestamp(params["first_date"]), pd.Timestamp(params["last_date"])
    n_days = (last_day - first_day).days + 1
    if n_days < 2:
        raise ValueError("hm_generation.first_date must be before hm_generation.last_date")
    rng = np.random.default_rng([seed, 1_000_003])
    n_weeks = n_days // 7 + 1
    shop = build_shop(rng, n_articles, n_weeks, params)
    starts = rng.integers(0, n_days, n_customers)
    extra = float(params["mean_purchases"]) - 1
    lengths = 1 + rng.negative_binomial(1.0, 1.0 / (1.0 + extra), n_customers)
    # At most a quarter of the articles: new articles are drawn from those not bought yet.
    lengths = np.minimum(lengths, min(int(params["max_purchases"]), max(1, n_articles // 4)))
    clicks = simulate_clicks(rng, shop, starts // 7, lengths)
    rows, positions = np.nonzero(clicks >= 0)
    gaps = rng.exponential(float(params["mean_gap_days"]), len(rows)).astype(np.int64)
    gaps[positions == 0] = 0
    day = starts[rows] + pd.Series(gaps).groupby(rows).cumsum().to_numpy()
    keep = day < n_days
    rows, day, articles = rows[keep], day[keep], clicks[rows[keep], positions[keep]]
    base_price = np.clip(rng.lognormal(-3.7, 0.6, n_articles), 0.001, 0.6)
    channel = np.where(rng.random(n_customers) < 0.7, 2, 1)
    switch = rng.random(len(rows)) < 0.2
    customer_ids = np.array([f"{value:016x}" for value in rng.integers(0, 2**63, n_customers * 4)])
    customer_ids = np.char.add(
        np.char.add(customer_ids[0::4], customer_ids[1::4]),
        np.char.add(customer_ids[2::4], customer_ids[3::4]),
    )
    article_ids = np.array([f"0{100000000 + 37 * index:09d}" for index in range(n_articles)])
    transactions = pd.DataFrame(
        {
            "t_dat": (first_day + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d"),
            "customer_id": customer_ids[rows],
            "article_id": article_ids[articles],
            "price": np.round(base_price[articles] * rng.uniform(0.9, 1.0, len(rows)), 6),
            "sales_channel_id": np.where(switch, 3 - channel[rows], channel[rows]),
        }
    )
    return transactions.sort_values(["t_dat", "customer_id"], kind="stable").reset_index(drop=True)

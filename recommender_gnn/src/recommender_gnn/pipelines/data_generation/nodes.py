"""Seeded OTTO-format sessions with an exact next-click oracle, and H&M-shaped transactions.

``generate_otto_sessions`` is a generator node: it yields one chunk of sessions at a time and
the catalog appends each chunk, so ``scale`` can reach OTTO's size (12.9 M sessions) without
the data in memory. The shop (categories, successors, popularity) is built once from ``seed``;
chunk ``c`` draws its sessions from ``[seed, c]``, so a run is deterministic for a given seed
and ``chunk_sessions``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..data_preparation.splits import truncate_sessions
from .oracle import ORDER_COIN, oracle_lists
from .simulation import Shop, build_shop, next_click_distribution, simulate_clicks

logger = logging.getLogger(__name__)
DAY = 86_400


def _check(params: dict[str, Any]) -> None:
    """Reject impossible settings before anything is written, naming the parameter."""
    positive = ("n_sessions", "n_items", "n_days", "test_days", "chunk_sessions", "scale")
    for name in positive:
        if not float(params[name]) > 0:
            raise ValueError(f"data_generation.{name} must be > 0, got {params[name]!r}")
    if int(params["test_days"]) >= int(params["n_days"]):
        raise ValueError(
            f"data_generation.test_days ({params['test_days']}) must be smaller than "
            f"data_generation.n_days ({params['n_days']}): the days before it are for training"
        )
    shares = float(params["revisit_probability"]) + float(params["jump_probability"])
    if not 0 <= shares < 1:
        raise ValueError(
            "data_generation.revisit_probability + jump_probability must be in [0, 1), "
            f"got {shares}"
        )


def _sizes(params: dict[str, Any]) -> tuple[int, int]:
    scale = float(params["scale"])
    return max(2, round(params["n_sessions"] * scale)), max(4, round(params["n_items"] * scale))


def _session_events(
    rng: np.random.Generator, clicks: np.ndarray, lengths: np.ndarray, params: dict
) -> tuple[pd.DataFrame, np.ndarray]:
    """(events, ordering): clicks, a cart right after some clicks, and in the sessions that
    order (``ordering``) an order of each carted click with probability 0.7, at the end."""
    rows, positions = np.nonzero(clicks >= 0)
    items = clicks[rows, positions]
    gaps = 2 + rng.exponential(float(params["mean_gap_seconds"]), len(rows)).astype(np.int64)
    gaps[positions == 0] = 0
    offsets = pd.Series(gaps).groupby(rows).cumsum().to_numpy()
    carted = rng.random(len(rows)) < float(params["cart_probability"])
    ordering_session = rng.random(len(lengths)) < float(params["order_probability"])
    ordered = carted & ordering_session[rows] & (rng.random(len(rows)) < ORDER_COIN)
    last_offset = np.zeros(len(lengths), dtype=np.int64)
    np.maximum.at(last_offset, rows, offsets)
    max_position = clicks.shape[1]
    parts = [
        pd.DataFrame(
            {"row": rows, "item": items, "offset": offsets, "type": 0, "seq": 2 * positions}
        ),
        pd.DataFrame(
            {
                "row": rows[carted],
                "item": items[carted],
                "offset": offsets[carted] + 1,
                "type": 1,
                "seq": 2 * positions[carted] + 1,
            }
        ),
        pd.DataFrame(
            {
                "row": rows[ordered],
                "item": items[ordered],
                "offset": last_offset[rows[ordered]] + 60,
                "type": 2,
                "seq": 2 * max_position + positions[ordered],
            }
        ),
    ]
    events = pd.concat(parts, ignore_index=True).sort_values(["row", "seq"], kind="stable")
    # Repeated clicks and carts stay (OTTO has them; the oracle counts every click); an item
    # carted twice is ordered once.
    repeated_order = events.duplicated(["row", "item", "type"]) & (events["type"] == 2)
    return events[~repeated_order].reset_index(drop=True), ordering_session


def _chunk(
    shop: Shop, aids: np.ndarray, params: dict, seed: int, chunk: int, lo: int, hi: int, n: int
) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng([seed, chunk])
    session_ids = np.arange(lo, hi)
    horizon = int(params["n_days"]) * DAY
    starts = ((session_ids + rng.random(len(session_ids))) / n * horizon).astype(np.int64)
    days = np.minimum(starts // DAY, int(params["n_days"]) - 1)
    extra_clicks = float(params["mean_clicks"]) - 1
    dispersion = float(params["length_dispersion"])
    lengths = 1 + rng.negative_binomial(
        dispersion, dispersion / (dispersion + extra_clicks), len(starts)
    )
    lengths = np.minimum(lengths, int(params["max_clicks"]))
    clicks = simulate_clicks(rng, shop, days, lengths)
    events, ordering = _session_events(rng, clicks, lengths, params)
    events["session"] = session_ids[events["row"]]
    events["ts"] = int(params["start_ts"]) + starts[events["row"]] + events["offset"]
    events["aid"] = aids[events["item"]]

    cutoff = int(params["start_ts"]) + (int(params["n_days"]) - int(params["test_days"])) * DAY
    is_test = (int(params["start_ts"]) + starts)[events["row"]] >= cutoff
    train = events[~is_test & (events["ts"] < cutoff)]
    test = events[is_test]
    test = test[test.groupby("row")["row"].transform("size") >= 2]  # OTTO drops these too
    prefix, labels = truncate_sessions(test, rng, item="aid")
    sessions = np.unique(test["row"])
    n_prefix_clicks = prefix[prefix["type"] == 0].groupby("row").size().reindex(sessions).to_numpy()
    oracle_rows, oracle_items, probability = next_click_distribution(
        shop, clicks[sessions], n_prefix_clicks, days[sessions]
    )
    next_clicks = pd.DataFrame(
        {"row": sessions[oracle_rows], "item": oracle_items, "probability": probability}
    )
    oracle = oracle_lists(
        rng, shop, clicks, lengths, days, ordering, prefix, next_clicks, params, clicks.shape[1]
    )
    oracle["session"] = session_ids[oracle["row"]]
    oracle["aid"] = aids[oracle["item"]]
    oracle = oracle[["session", "event_type", "aid", "probability"]]
    columns = ["session", "aid", "ts", "type"]
    return (
        _typed(train[columns]),
        _typed(prefix[columns]),
        labels.reset_index(drop=True),
        oracle,
    )


def _typed(events: pd.DataFrame) -> pd.DataFrame:
    return events.astype({"session": "int64", "aid": "int64", "ts": "int64", "type": "int8"})


def generate_otto_sessions(params: dict[str, Any], seed: int) -> Iterator[tuple[pd.DataFrame, ...]]:
    """Yield (train, test prefix, test labels, train, test prefix, oracle) per chunk: the
    JSON-lines files, their Parquet twins and the true next-click distribution."""
    _check(params)
    n_sessions, n_items = _sizes(params)
    rng = np.random.default_rng(seed)
    shop = build_shop(rng, n_items, int(params["n_days"]), params)
    aids = rng.permutation(n_items).astype(np.int64) * 7 + 11  # original ids differ from ours
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
    """H&M ``transactions_train.csv`` in shape: customers buy along a latent article chain."""
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
    lengths = np.minimum(lengths, int(params["max_purchases"]))
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

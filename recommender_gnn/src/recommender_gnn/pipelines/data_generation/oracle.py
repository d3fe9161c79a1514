"""What the generator knows about each test session's continuation, as top-20 lists.

clicks: the exact next-click distribution (``next_click_distribution``). carts and orders:
the probability that an item is carted / ordered in the remainder, given everything latent
the generator drew for the session (its true number of clicks, whether it orders) but none
of the future draws: the future clicks are simulated ``samples`` times from the true walk,
and each carted instance is ordered with probability 0.7, as in ``_session_events``. A model
sees less than that, so in expectation no model beats it (up to the Monte Carlo error).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .simulation import Shop, simulate_clicks

ORDER_COIN = 0.7  # the share of carted items a session that orders buys (nodes._session_events)


def _future_click_counts(
    rng: np.random.Generator,
    shop: Shop,
    clicks: np.ndarray,
    lengths: np.ndarray,
    days: np.ndarray,
    n_prefix_clicks: pd.Series,
    samples: int,
    batch: int = 2000,
) -> pd.DataFrame:
    """(row, sample, item, n): how often each item is clicked after the cut, per sample."""
    frames = []
    remaining = lengths[n_prefix_clicks.index] - n_prefix_clicks.to_numpy()
    continuing = n_prefix_clicks[remaining > 0]
    for given_clicks, group in continuing.groupby(continuing):
        rows = group.index.to_numpy()
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            given = np.repeat(clicks[part, :given_clicks], samples, axis=0)
            walked = simulate_clicks(
                rng,
                shop,
                np.repeat(days[part], samples),
                np.repeat(lengths[part], samples),
                given,
            )[:, given_clicks:]
            walk, position = np.nonzero(walked >= 0)
            frames.append(
                pd.DataFrame(
                    {
                        "row": part[walk // samples],
                        "sample": walk % samples,
                        "item": walked[walk, position],
                    }
                )
            )
    if not frames:
        return pd.DataFrame({"row": [], "sample": [], "item": [], "n": []}, dtype="int64")
    future = pd.concat(frames, ignore_index=True)
    return (
        future.groupby(["row", "sample", "item"], as_index=False)
        .size()
        .rename(columns={"size": "n"})
    )


def _mean_power(counts: pd.DataFrame, base: float, samples: int) -> pd.Series:
    """Per (row, item): the mean over samples of ``base ** n`` (n = 0 in samples without it)."""
    excess = (base ** counts["n"] - 1).groupby([counts["row"], counts["item"]]).sum()
    return 1 + excess / samples


def oracle_lists(
    rng: np.random.Generator,
    shop: Shop,
    clicks: np.ndarray,
    lengths: np.ndarray,
    days: np.ndarray,
    ordering: np.ndarray,
    prefix: pd.DataFrame,
    next_clicks: pd.DataFrame,
    params: dict,
    max_position: int,
) -> pd.DataFrame:
    """(row, item, probability, event_type), top 20 per row and event type.

    ``prefix`` holds the test prefixes with the generator's columns (row, item, type, seq);
    ``next_clicks`` the exact next-click distribution (row, item, probability).
    """
    cart_p = float(params["cart_probability"])
    samples = int(params["oracle_samples"])
    n_prefix_clicks = prefix[prefix["type"] == 0].groupby("row").size()
    counts = _future_click_counts(rng, shop, clicks, lengths, days, n_prefix_clicks, samples)
    last = prefix.groupby("row").tail(1)
    # The cart decision of the last clicked item is still open when the cut follows its click.
    pending = last.loc[last["type"] == 0].set_index(["row", "item"]).assign(n=1)["n"]

    not_carted = _mean_power(counts, 1 - cart_p, samples)
    keys = not_carted.index.union(pending.index)
    pending_factor = (1 - cart_p) ** pending.reindex(keys, fill_value=0)
    carts = 1 - not_carted.reindex(keys, fill_value=1.0) * pending_factor

    # Orders come last, one per carted click in click order: a carted instance after the
    # last order already in the prefix is still open, an earlier one was decided.
    prefix_orders = prefix[prefix["type"] == 2]
    last_ordered = (prefix_orders["seq"] - 2 * max_position).groupby(prefix_orders["row"]).max()
    carted = prefix[prefix["type"] == 1]
    cart_position = (carted["seq"] - 1) // 2
    still_open = cart_position.to_numpy() > last_ordered.reindex(carted["row"], fill_value=-1)
    open_carts = carted[still_open.to_numpy()].groupby(["row", "item"]).size()
    never = 1 - ORDER_COIN * cart_p
    not_ordered_future = _mean_power(counts, never, samples)
    keys = not_ordered_future.index.union(pending.index).union(open_carts.index)
    orders = 1 - (
        not_ordered_future.reindex(keys, fill_value=1.0)
        * never ** pending.reindex(keys, fill_value=0)
        * (1 - ORDER_COIN) ** open_carts.reindex(keys, fill_value=0)
    )
    rows = orders.index.get_level_values("row")
    already = pd.MultiIndex.from_frame(prefix_orders[["row", "item"]])
    orders = orders[ordering[rows] & ~orders.index.isin(already)]

    parts = []
    for event_type, part in (
        ("clicks", next_clicks.set_index(["row", "item"])["probability"]),
        ("carts", carts),
        ("orders", orders),
    ):
        part = part.rename("probability").reset_index()
        part = part[part["probability"] > 0]
        part = part.sort_values(["row", "probability", "item"], ascending=[True, False, True])
        parts.append(part.groupby("row").head(20).assign(event_type=event_type))
    return pd.concat(parts, ignore_index=True)

"""OTTO's own local evaluation split: cut each session at a random point; the remainder
gives the labels (next click, carted items, ordered items)."""

from __future__ import annotations

import numpy as np
import pandas as pd

EVENT_TYPES = np.asarray(["clicks", "carts", "orders"])


def truncate_sessions(
    events: pd.DataFrame, rng: np.random.Generator, item: str = "item"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(prefix events, labels) for sessions of >= 2 events sorted by session and time.

    The cut is uniform in [1, n_events - 1], so the prefix and the remainder are never empty.
    Labels are long: ``session``, ``event_type``, ``item`` (clicks: the first click of the
    remainder; carts, orders: every distinct item carted or ordered in it).
    """
    position = events.groupby("session").cumcount().to_numpy()
    sizes = events.groupby("session")["session"].transform("size").to_numpy()
    if (sizes < 2).any():
        raise ValueError("truncate_sessions needs sessions of at least 2 events")
    _, first = np.unique(events["session"].to_numpy(), return_index=True)
    cut_per_session = rng.integers(1, sizes[first])
    cut = np.repeat(cut_per_session, np.diff(np.append(first, len(events))))
    in_prefix = position < cut
    prefix, remainder = events[in_prefix], events[~in_prefix]
    next_clicks = remainder[remainder["type"] == 0].drop_duplicates("session")
    later = remainder[remainder["type"] > 0].drop_duplicates(["session", "type", item])
    labels = pd.concat([next_clicks, later])
    labels = pd.DataFrame(
        {
            "session": labels["session"].astype("int64"),
            "event_type": EVENT_TYPES[labels["type"].astype(int).to_numpy()],
            item: labels[item].astype("int64"),
        }
    ).sort_values(["session", "event_type"], kind="stable")
    return prefix.reset_index(drop=True), labels.reset_index(drop=True)

"""Sorting and run helpers of the large tables: ``np.lexsort``'s order by successive stable
argsorts, positions within runs, a frame sorted by session only when it is not.

Same result (stable, the last key primary), about 4x faster on tens of millions of rows here
(40 M rows, three keys: 151 s against 36 s): ``np.lexsort`` compares through the index at every
step, an argsort of the gathered key reads memory in order. At OTTO's size the candidate,
policy, blend and submission steps each sort 50-140 M rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def lexsort(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Indices that sort by ``keys[-1]``, then ``keys[-2]``... ties in input order."""
    order = np.argsort(np.asarray(keys[0]), kind="stable")
    for key in keys[1:]:
        order = order[np.argsort(np.asarray(key)[order], kind="stable")]
    return order


def positions(sorted_keys: np.ndarray) -> np.ndarray:
    """0, 1, 2... within each run of equal (sorted) keys: the rank within a list minus one."""
    if sorted_keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return np.arange(sorted_keys.size) - np.repeat(
        starts, np.diff(np.append(starts, sorted_keys.size))
    )


def sorted_by_session(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame itself when its sessions are already in order, else a stably sorted copy."""
    session = frame["session"].to_numpy()
    if session.size and (np.diff(session) < 0).any():
        return frame.sort_values("session", kind="stable", ignore_index=True)
    return frame

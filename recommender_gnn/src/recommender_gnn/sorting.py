"""``np.lexsort``'s order by successive stable argsorts.

Same result (stable, the last key primary), about 4x faster on tens of millions of rows here
(40 M rows, three keys: 151 s against 36 s): ``np.lexsort`` compares through the index at every
step, an argsort of the gathered key reads memory in order. At OTTO's size the candidate,
policy, blend and submission steps each sort 50-140 M rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def lexsort(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Indices that sort by ``keys[-1]``, then ``keys[-2]``... ties in input order."""
    order = np.argsort(np.asarray(keys[0]), kind="stable")
    for key in keys[1:]:
        order = order[np.argsort(np.asarray(key)[order], kind="stable")]
    return order

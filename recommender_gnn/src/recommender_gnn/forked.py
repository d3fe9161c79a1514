"""Chunked CPU work on several cores: the parameter ``processes`` of every chunked step.

NumPy, SciPy and pandas run one core each; the chunks of sessions (candidates, fusion, the
seen-item policy) are independent, so they run in forked worker processes and come back in
order: the same result as one process. ``processes`` comes from ``kedro run --params
processes=N`` (conf/base/globals.yml); 1 or null runs here. Forked, not spawned: the workers
read the fitted state (GBs at OTTO's size) from the parent's memory instead of a pickled copy;
where fork does not exist (Windows, macOS' default) the work runs here.
"""

from __future__ import annotations

import collections
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# What forked workers run: set before the pool forks, so a closure over large arrays is
# inherited, never pickled.
_FORKED: dict[str, Callable] = {}


def _call_forked(item: Any) -> Any:
    return _FORKED["func"](item)


def map_forked(func: Callable[[Any], Any], items: Iterable, processes=None) -> list:
    """``[func(item) for item in items]``, in ``processes`` forked workers. A few items per
    worker are in flight at a time, so memory stays bounded by items, not by their number."""
    processes = int(processes or 1)
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [func(item) for item in items]
    _FORKED["func"] = func
    try:
        results, pending = [], collections.deque()
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=context) as pool:
            for item in items:
                pending.append(pool.submit(_call_forked, item))
                if len(pending) >= 2 * processes:
                    results.append(pending.popleft().result())
            results += [future.result() for future in pending]
        return results
    finally:
        _FORKED.clear()

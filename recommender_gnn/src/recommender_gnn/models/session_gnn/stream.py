"""Training pairs (prefix -> what follows it), streamed by blocks of sessions.

No array spans every pair of the data set (OTTO: 204 M): the sessions are shuffled (one int32
number per session), cut into blocks of ``block_sessions``, and only a block's pairs exist at
a time, shuffled within it; a block's last incomplete mini-batch is carried into the next one.
Memory is the session table plus one block, whatever the event count.

OTTO: every prefix followed by an event, with what follows it in the session. H&M
(``window_seconds``: a week): the prefixes that end where a week with purchases starts, with
that week's purchases, which is what the H&M task scores (weeks counted back from ``anchor``).
"""

from collections.abc import Iterator

import numpy as np

from .graphs import SessionEvents, prefix_events


def block_pairs(
    events: SessionEvents,
    sessions: np.ndarray,
    window_seconds: int | None = None,
    anchor: int = 0,
) -> tuple[np.ndarray, ...]:
    """(session start, prefix end, target end) of the training pairs of ``sessions`` (row
    numbers of ``events``): targets are the events in [prefix end, target end)."""
    offsets, lengths = events.offsets[sessions], events.lengths[sessions]
    if window_seconds is None:
        n_pairs = np.maximum(lengths - 1, 0)
        starts = np.repeat(offsets, n_pairs)
        within = np.arange(starts.size) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
        return starts, starts + 1 + within, np.repeat(offsets + lengths, n_pairs)
    sequence, positions = prefix_events(offsets, offsets + lengths, np.iinfo(np.int64).max // 4)
    window = (anchor - events.ts[positions]) // window_seconds
    new_session = np.r_[True, sequence[1:] != sequence[:-1]]
    segment = np.flatnonzero(new_session | np.r_[True, window[1:] != window[:-1]])
    segment_end = np.r_[segment[1:], sequence.size]
    later = ~new_session[segment]  # a week after the session's first one: it has a prefix
    first = offsets[sequence[segment[later]]]
    return first, positions[segment[later]], positions[segment_end[later] - 1] + 1


def count_pairs(events: SessionEvents, block_sessions: int, **window) -> int:
    """The training pairs of an epoch, counted block by block."""
    return sum(
        block_pairs(events, np.arange(start, min(start + block_sessions, events.sessions.size)),
                    **window)[0].size
        for start in range(0, events.sessions.size, block_sessions)
    )  # fmt: skip


def training_batches(
    events: SessionEvents,
    batch_size: int,
    block_sessions: int,
    rng: np.random.Generator,
    max_pairs: int | None = None,
    **window,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Mini-batches of ``block_pairs`` rows, seeded, each pair once per epoch (the first
    ``max_pairs`` of this epoch's order when set); ``window``: see ``block_pairs``."""
    order = rng.permutation(events.sessions.size).astype(np.int32)
    carried = tuple(np.empty(0, dtype=np.int64) for _ in range(3))
    remaining = np.inf if max_pairs is None else int(max_pairs)
    for start in range(0, order.size, block_sessions):
        pairs = block_pairs(events, order[start : start + block_sessions], **window)
        shuffled = rng.permutation(pairs[0].size)
        pairs = tuple(np.concatenate([c, p[shuffled]]) for c, p in zip(carried, pairs, strict=True))
        n_full = pairs[0].size // batch_size * batch_size
        for first in range(0, n_full, batch_size):
            if remaining <= 0:
                return
            take = int(min(batch_size, remaining))
            remaining -= take
            yield tuple(p[first : first + take] for p in pairs)
        carried = tuple(p[n_full:] for p in pairs)
    if carried[0].size and remaining > 0:
        take = int(min(carried[0].size, remaining))
        yield tuple(c[:take] for c in carried)


def future_targets(events: SessionEvents, ends: np.ndarray, session_ends: np.ndarray) -> np.ndarray:
    """Rows (prefix, event type, item) of what follows each prefix, as OTTO labels it.

    clicks: the next click; carts and orders: every item carted or ordered later.
    """
    prefix, positions = prefix_events(ends, session_ends, np.iinfo(np.int64).max // 4)
    types = events.types[positions].astype(np.int64)
    items = events.items[positions].astype(np.int64)
    clicks = types == 0
    _, first = np.unique(prefix[clicks], return_index=True)
    rows = [np.stack([prefix[clicks][first], types[clicks][first], items[clicks][first]], 1)]
    later = ~clicks
    rows.append(np.unique(np.stack([prefix[later], types[later], items[later]], 1), axis=0))
    return np.concatenate(rows)

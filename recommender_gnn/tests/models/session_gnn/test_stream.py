import numpy as np
import pandas as pd

from recommender_gnn.models.session_gnn.graphs import SessionEvents
from recommender_gnn.models.session_gnn.stream import (
    block_pairs,
    count_pairs,
    future_targets,
    training_batches,
)
from tests.pipelines.session_data import make_sessions


def _pairs(batches) -> list[tuple[int, int, int]]:
    return [tuple(row) for batch in batches for row in np.stack(batch, 1).tolist()]


def test_each_pair_comes_once_per_epoch_in_full_batches_block_by_block():
    events = SessionEvents(make_sessions(n_sessions=40, n_items=30, seed=3), "sessions")
    batches = list(training_batches(events, 16, 5, np.random.default_rng(0)))
    pairs = _pairs(batches)
    # Every prefix [start, end) followed by an event, exactly once.
    expected = {
        (start, start + n, start + length)
        for start, length in zip(events.offsets, events.lengths, strict=True)
        for n in range(1, length)
    }
    assert len(pairs) == len(expected) == events.n_pairs
    assert set(pairs) == expected
    assert [batch[0].size for batch in batches[:-1]] == [16] * (len(batches) - 1)
    # Block by block: the first batch only holds sessions of the first block (20 sessions have
    # at least 20 pairs), so no array of every pair is needed.
    order = np.random.default_rng(0).permutation(events.sessions.size)
    first = next(training_batches(events, 16, 20, np.random.default_rng(0)))
    assert set(first[0].tolist()) <= set(events.offsets[order[:20]].tolist())
    # Seeded: the same order for a seed, another for another seed.
    again = _pairs(training_batches(events, 16, 5, np.random.default_rng(0)))
    other = _pairs(training_batches(events, 16, 5, np.random.default_rng(1)))
    assert again == pairs and other != pairs


def test_max_pairs_caps_the_epoch():
    events = SessionEvents(make_sessions(n_sessions=40, n_items=30, seed=3), "sessions")
    pairs = _pairs(training_batches(events, 16, 5, np.random.default_rng(0), max_pairs=37))
    assert len(pairs) == 37
    assert pairs == _pairs(training_batches(events, 16, 5, np.random.default_rng(0)))[:37]


def test_future_targets_are_the_next_click_and_every_later_cart_and_order():
    events = pd.DataFrame(
        {
            "session": [0] * 6,
            "item": [5, 3, 3, 7, 9, 3],
            "ts": range(6),
            "type": [0, 0, 1, 0, 0, 2],
        }
    )
    table = SessionEvents(events, "sessions")
    rows = future_targets(table, np.array([1, 3, 4]), np.array([6, 6, 6]))
    assert sorted(map(tuple, rows.tolist())) == [
        (0, 0, 3),  # prefix [5]: next click 3, cart of 3, order of 3
        (0, 1, 3),
        (0, 2, 3),
        (1, 0, 7),  # prefix [5, 3, 3(cart)]: next click 7, order of 3
        (1, 2, 3),
        (2, 0, 9),  # prefix [.., 7]: next click 9, order of 3
        (2, 2, 3),
    ]


def test_weekly_pairs_are_the_prefix_before_a_week_and_that_weeks_purchases():
    day = 86_400
    events = pd.DataFrame(
        {
            "session": [0] * 6 + [1, 1],
            "item": [1, 2, 3, 4, 5, 6, 7, 8],
            # Weeks counted back from day 20: days 0-6 week 2 ... here days 0, 0, 3 | 10, 11 | 20
            "ts": np.array([0, 0, 3, 10, 11, 20, 15, 16]) * day,
            "type": 2,
        }
    )
    table = SessionEvents(events, "sessions", keep_ts=True)
    window = {"window_seconds": 7 * day, "anchor": 20 * day}
    starts, ends, target_ends = block_pairs(table, np.array([0, 1]), **window)
    # Session 0: [0, 3) -> days 10-11 (rows 3, 4); [0, 5) -> day 20 (row 5). Session 1: one
    # week only (days 15, 16), so no prefix before it: no pair.
    assert list(zip(starts, ends, target_ends, strict=True)) == [(0, 3, 5), (0, 5, 6)]
    assert count_pairs(table, 1, **window) == 2
    targets = future_targets(table, ends, target_ends)
    assert sorted(map(tuple, targets.tolist())) == [(0, 2, 4), (0, 2, 5), (1, 2, 6)]

"""The lexsort every large sort uses gives np.lexsort's order, ties included."""

import numpy as np

from recommender_gnn.sorting import lexsort


def test_the_order_equals_numpy_lexsort_with_ties_and_float_keys():
    rng = np.random.default_rng(0)
    keys = (
        rng.integers(0, 5, 5000),  # many ties left to the input order
        -rng.integers(0, 4, 5000) / 3.0,
        rng.integers(0, 30, 5000).astype(np.int32),
    )
    order = lexsort(keys)
    np.testing.assert_array_equal(order, np.lexsort(keys))
    assert not np.array_equal(order, np.lexsort(keys[::-1]))  # the last key is the primary one
    assert lexsort((np.zeros(0),)).size == 0

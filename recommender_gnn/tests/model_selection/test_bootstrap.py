"""Paired bootstrap intervals: point values equal the metric, pairing narrows differences."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.model_selection.bootstrap import paired_bootstrap
from recommender_gnn.model_selection.metrics import session_scores, summarise


def scores_of(hit_share: float, n_sessions: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sessions = np.arange(n_sessions)
    labels = pd.DataFrame(
        {
            "session": np.repeat(sessions, 2),
            "event_type": ["clicks", "orders"] * n_sessions,
            "item": np.tile([1, 2], n_sessions),
        }
    )
    hit = rng.random(len(labels)) < hit_share
    predictions = labels[hit].assign(rank=1, score=1.0)
    return session_scores(predictions, labels)


def test_point_values_are_the_metrics_and_intervals_hold_them():
    scores = scores_of(0.5)
    table = paired_bootstrap({"model": scores}, resamples=200, seed=1).set_index("model")
    expected = summarise(scores)
    for metric in ("recall_clicks", "recall_orders", "mrr_clicks", "score"):
        assert table.loc["model", metric] == pytest.approx(expected[metric])
        assert table.loc["model", f"{metric}_ci_low"] < expected[metric]
        assert table.loc["model", f"{metric}_ci_high"] > expected[metric]


def test_pairing_makes_a_consistent_small_gain_significant():
    base = scores_of(0.5, seed=3)
    better = base.copy()
    # One more hit in 2% of the sessions, the rest identical: a paired gain.
    gain = (
        (better["event_type"] == "orders") & (better["hits"] == 0) & (better["session"] % 25 == 0)
    )
    better.loc[gain, "hits"] = 1
    table = paired_bootstrap({"base": base, "better": better}, 300, 2, reference="base")
    row = table.set_index("model").loc["better"]
    assert row["score_diff"] > 0
    assert row["score_diff_ci_low"] > 0  # significant when paired...
    assert row["score_ci_low"] < table.set_index("model").loc["base", "score"]  # ...not apart

"""transition_counts.sql, run by DuckDB, against pandas and on hand-made sessions."""

import numpy as np
import pandas as pd

from tests.pipelines.baselines.sql_helpers import random_sessions, ranked, run_query, sorted_result

PARAMETERS = {
    "max_events_per_session": 7,
    "max_steps": 3,
    "step_decay": 0.5,
    "window_seconds": 3600,
    "top_k": 4,
}


def pandas_transitions(sessions: pd.DataFrame, p: dict) -> pd.DataFrame:
    """The same definition written independently in pandas."""
    ordered = sessions.sort_values(["session", "ts", "type", "item"], ignore_index=True)
    following = ordered.groupby("session")["item"].shift(-1)
    changes = ordered[following.isna() | (following != ordered["item"])].copy()
    changes["back"] = changes.groupby("session").cumcount(ascending=False) + 1
    recent = changes[changes["back"] <= p["max_events_per_session"]]
    pairs = recent.merge(recent, on="session", suffixes=("_a", "_b"))
    steps = pairs["back_a"] - pairs["back_b"]
    pairs = pairs[
        (steps >= 1)
        & (steps <= p["max_steps"])
        & (pairs["item_a"] != pairs["item_b"])
        & (pairs["ts_b"] - pairs["ts_a"] < p["window_seconds"])
    ]
    pairs = pairs.assign(weight=p["step_decay"] ** (steps[pairs.index] - 1))
    totals = pairs.groupby(["item_a", "item_b"], as_index=False)["weight"].sum()
    totals["weight"] = totals["weight"].round(6)
    top = ranked(totals, "item_a", "item_b", p["top_k"])
    return top.rename(columns={"item_a": "item", "item_b": "successor"})


def test_transition_counts_equal_the_pandas_definition(tmp_path):
    sessions = random_sessions(seed=2, n_sessions=300, n_items=15)
    sessions["ts"] = sessions["ts"] // 900 * 900  # ties in time: the order of a second matters
    result = sorted_result(run_query(tmp_path, "transition_counts", sessions, PARAMETERS))
    expected = pandas_transitions(sessions, PARAMETERS)
    assert len(result) == len(expected) > 40
    assert result[["item", "successor", "rank"]].to_numpy().tolist() == (
        expected[["item", "successor", "rank"]].to_numpy().tolist()
    )
    np.testing.assert_allclose(result["weight"], expected["weight"], rtol=1e-12)


def test_transitions_keep_the_direction_and_decay_with_the_steps(tmp_path):
    # Session 0: 1, 1 (a repeat: one event), 2, 3, 4 within a minute; session 1: 1, 5 two
    # hours apart (outside the window).
    sessions = pd.DataFrame(
        {
            "session": [0, 0, 0, 0, 0, 1, 1],
            "item": [1, 1, 2, 3, 4, 1, 5],
            "ts": [0, 1, 2, 3, 4, 0, 7200],
            "type": [0, 1, 0, 0, 0, 0, 0],
        }
    )
    result = run_query(tmp_path, "transition_counts", sessions, PARAMETERS)
    weights = {(i, s): w for i, s, w in result[["item", "successor", "weight"]].to_numpy()}
    assert weights == {
        (1, 2): 1.0, (1, 3): 0.5, (1, 4): 0.25,  # 4 is 3 distinct events after 1
        (2, 3): 1.0, (2, 4): 0.5,
        (3, 4): 1.0,
    }  # fmt: skip

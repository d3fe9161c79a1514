"""The submission file: decoded ids, three rows per test session, and a checker that fails."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.submission.nodes import (
    EVENT_TYPES,
    build_submission,
    check_submission,
    gate_submission,
)

ITEM_MAP = pd.DataFrame({"item": [0, 1, 2, 3], "aid": [500, 501, 502, 503]})
SESSION_MAP = pd.DataFrame(
    {"session": [0, 1, 2], "original_session": [70, 80, 90], "source": ["train", "test", "test"]}
)
POPULAR = pd.DataFrame(
    {
        "event_type": ["clicks", "carts", "orders"] * 2,
        "item": [3] * 3 + [2] * 3,
        "rank": [1] * 3 + [2] * 3,
    }
)


def test_build_decodes_ids_fills_missing_sessions_and_passes_the_check():
    predictions = pd.DataFrame(
        {
            "session": [1, 1, 1, 1],
            "event_type": ["clicks", "clicks", "carts", "orders"],
            "item": [1, 0, 1, 1],
            "rank": [1, 2, 1, 1],
        }
    )
    submission = build_submission(predictions, POPULAR, ITEM_MAP, SESSION_MAP)
    assert submission.set_index("session_type")["labels"].to_dict() == {
        "80_carts": "501",
        "80_clicks": "501 500",
        "80_orders": "501",
        "90_carts": "503 502",  # session 90 had no prediction: popular items
        "90_clicks": "503 502",
        "90_orders": "503 502",
    }
    assert check_submission(submission, SESSION_MAP) is submission


def valid_submission():
    return pd.DataFrame(
        {
            "session_type": [f"{s}_{t}" for s in (80, 90) for t in ("clicks", "carts", "orders")],
            "labels": ["1 2"] * 6,
        }
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.iloc[1:], r"lacks 1 of 6 rows \(e.g. 80_clicks\)"),
        (
            lambda s: s.assign(labels=" ".join(map(str, range(21)))),
            r"line 2, field 'labels': 21 aids",
        ),
        (lambda s: s.assign(labels="5 5"), r"line 2, field 'labels': an aid appears twice"),
        (lambda s: s.assign(labels="5,6"), r"line 2, field 'labels': '5,6' is not space-separated"),
        (
            lambda s: s.replace({"80_clicks": "80_views"}),
            r"line 2, field 'session_type': '80_views'",
        ),
        (lambda s: pd.concat([s, s.tail(1)]), r"session_type '90_orders' appears twice"),
        (
            lambda s: pd.concat(
                [s, pd.DataFrame({"session_type": ["70_clicks"], "labels": ["1"]})]
            ),
            r"sessions not in test.jsonl \(e.g. 70_clicks\)",
        ),
        (lambda s: s.rename(columns={"labels": "aids"}), r"expected \['session_type', 'labels'\]"),
    ],
)
def test_the_checker_rejects_each_broken_rule(change, message):
    assert check_submission(valid_submission(), SESSION_MAP) is not None
    with pytest.raises(ValueError, match=message):
        check_submission(change(valid_submission()), SESSION_MAP)


@pytest.mark.parametrize(("margin", "submitted"), [(0.0, "blend"), (0.05, "covisitation")])
def test_the_gate_submits_the_candidate_only_when_it_beats_the_strongest_baseline(
    margin, submitted
):
    report = {
        "strongest_baseline": "covisitation",
        "valid_scores": {"blend": 0.52, "covisitation": 0.50, "popularity": 0.2},
    }
    blend, covisitation = pd.DataFrame({"model": ["blend"]}), pd.DataFrame({"model": ["covi"]})
    chosen, decision = gate_submission(
        report,
        {"model": "blend", "min_uplift_over_best_baseline": margin},
        blend=blend,
        covisitation=covisitation,
    )
    assert decision["submitted_model"] == submitted
    assert decision["passed"] is (submitted == "blend")
    assert chosen is (blend if submitted == "blend" else covisitation)
    assert decision["uplift"] == pytest.approx(0.02)


def test_build_accepts_the_compact_prediction_dtypes():
    predictions = pd.DataFrame(
        {
            "session": np.array([1, 2], dtype=np.int32),
            "event_type": pd.Categorical(["clicks", "orders"], categories=EVENT_TYPES),
            "item": np.array([1, 0], dtype=np.int32),
            "rank": np.array([1, 1], dtype=np.int16),
        }
    )
    popular = POPULAR.astype({"event_type": pd.CategoricalDtype(EVENT_TYPES)})
    submission = build_submission(predictions, popular, ITEM_MAP, SESSION_MAP)
    check_submission(submission, SESSION_MAP)
    labels = submission.set_index("session_type")["labels"]
    assert labels["80_clicks"] == "501" and labels["90_orders"] == "500"
    assert labels["90_clicks"] == "503 502"  # a pair without predictions gets popular items

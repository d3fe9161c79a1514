"""The submission file: decoded ids, three rows per test session, and a checker that fails."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.model_evaluation.nodes import gate_submission
from recommender_gnn.pipelines.submission.nodes import (
    EVENT_TYPES,
    build_submission,
    check_submission,
    submit,
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
    decision = gate_submission(report, {"model": "blend", "min_uplift_over_best_baseline": margin})
    assert decision["submitted_model"] == submitted
    assert decision["passed"] is (submitted == "blend")
    assert decision["uplift"] == pytest.approx(0.02)


def test_the_submission_comes_from_the_submitted_model_and_needs_its_predictions():
    def predictions(item):
        return pd.DataFrame(
            {"session": [1, 2], "event_type": ["clicks", "clicks"], "item": [item] * 2, "rank": 1}
        )

    empty = predictions(0).iloc[:0]
    decision = {"submitted_model": "covisitation"}
    submission = submit(
        decision, POPULAR, ITEM_MAP, SESSION_MAP, blend=empty, covisitation=predictions(1)
    )
    assert submission.set_index("session_type")["labels"]["90_clicks"] == "501"
    with pytest.raises(ValueError, match="covisitation_predictions is empty"):
        submit(decision, POPULAR, ITEM_MAP, SESSION_MAP, blend=predictions(1), covisitation=empty)


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


def reference_submission(predictions, popular, item_map, session_map, top_k=20):
    """Row by row, as the rules read: each test session and type, its first top_k distinct
    items by rank, else the popular items."""
    test = session_map[session_map["source"] == "test"]
    aid = dict(zip(item_map["item"], item_map["aid"], strict=True))
    rows = []
    for session, original in zip(test["session"], test["original_session"], strict=True):
        for event_type in sorted(EVENT_TYPES):
            part = predictions[
                (predictions["session"] == session)
                & (predictions["event_type"].astype(str) == event_type)
            ].sort_values("rank", kind="stable")
            if part.empty:
                part = popular[popular["event_type"].astype(str) == event_type].sort_values("rank")
            items = list(dict.fromkeys(part["item"]))[:top_k]
            rows.append(
                (original, f"{original}_{event_type}", " ".join(str(aid[i]) for i in items))
            )
    rows.sort()
    return pd.DataFrame([r[1:] for r in rows], columns=["session_type", "labels"])


def test_build_matches_a_row_by_row_reference_on_random_predictions():
    rng = np.random.default_rng(3)
    n_items, n_sessions = 40, 30
    item_map = pd.DataFrame({"item": np.arange(n_items), "aid": rng.permutation(n_items) * 7 + 3})
    session_map = pd.DataFrame(
        {
            "session": np.arange(n_sessions),
            "original_session": rng.permutation(n_sessions) * 11 + 100,
            "source": np.where(np.arange(n_sessions) < 5, "train", "test"),
        }
    )
    rows = 900
    predictions = pd.DataFrame(
        {
            "session": rng.integers(5, n_sessions - 3, rows),  # the last 3 test sessions: none
            "event_type": rng.choice(EVENT_TYPES, rows),
            "item": rng.integers(0, n_items, rows),  # repeats within a list
            "rank": rng.integers(1, 30, rows),
        }
    ).sample(frac=1.0, random_state=1)
    popular = pd.DataFrame(
        {
            "event_type": np.repeat(EVENT_TYPES, 25),
            "item": np.tile(np.arange(25), 3),
            "rank": np.tile(np.arange(25, 0, -1), 3),
        }
    )
    expected = reference_submission(predictions, popular, item_map, session_map)
    submission = build_submission(predictions, popular, item_map, session_map)
    pd.testing.assert_frame_equal(submission, expected)
    assert submission["labels"].str.split().map(len).max() == 20
    check_submission(submission, session_map)


def test_the_checker_names_the_first_broken_line_and_accepts_an_empty_list():
    broken = valid_submission()
    broken.loc[4, "labels"] = "7 7"
    broken.loc[3, "labels"] = "8 x"
    broken.loc[5, "session_type"] = "90_view"
    with pytest.raises(ValueError, match=r"line 5, field 'labels': '8 x' is not"):
        check_submission(broken, SESSION_MAP)
    assert check_submission(valid_submission().assign(labels=7), SESSION_MAP) is not None
    broken.loc[3, "labels"] = np.nan  # an empty list reads back from the CSV as missing
    with pytest.raises(ValueError, match=r"line 6, field 'labels': an aid appears twice"):
        check_submission(broken, SESSION_MAP)

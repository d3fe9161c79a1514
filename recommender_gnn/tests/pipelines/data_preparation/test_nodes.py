"""Adapters and splits: contiguous ids that decode back, OTTO-style truncation, bad input
repaired and counted or rejected with the dataset and field named."""

import logging

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.data_preparation.hm_adapter import transactions_to_interactions
from recommender_gnn.pipelines.data_preparation.nodes import (
    build_interactions,
    clean_events,
    refit_sessions,
    split_validation,
)
from recommender_gnn.pipelines.data_preparation.splits import truncate_sessions

DAY = 86_400


def raw(rows):
    frame = pd.DataFrame(rows, columns=["session", "aid", "ts", "type"])
    return frame.astype({"session": "int64", "aid": "int64", "ts": "int64", "type": "int8"})


NO_LABELS = pd.DataFrame({"session": [], "event_type": [], "aid": []}).astype(
    {"session": "int64", "aid": "int64"}
)


def test_clean_events_sorts_out_of_order_events_and_counts_them(caplog):
    events = raw([(1, 10, 50, 0), (1, 11, 40, 0), (2, 12, 10, 0), (1, 13, 60, 1)])
    with caplog.at_level(logging.INFO):
        cleaned = clean_events(events, "otto_train")
    assert cleaned["ts"].tolist() == [40, 50, 60, 10]
    assert "otto_train: 1 events in 1 sessions are out of time order" in caplog.text
    assert "otto_train: 1 sessions appear on several lines: merged" in caplog.text
    assert "otto_train: 1 one-event sessions" in caplog.text


def test_clean_events_rejects_empty_input_and_unknown_type_codes():
    with pytest.raises(ValueError, match="otto_test has no events"):
        clean_events(raw([]), "otto_test")
    with pytest.raises(ValueError, match=r"otto_test column 'type' holds \[7\]: expected 0"):
        clean_events(raw([(1, 10, 5, 7)]), "otto_test")


def test_ids_are_contiguous_and_decode_to_the_original_ids(caplog):
    train = raw([(100, 5, 1, 0), (100, 9, 2, 0), (101, 9, 3, 1)])
    test = raw([(500, 9, 10, 0), (500, 77, 11, 0)])
    labels = pd.DataFrame(
        {"session": [500, 500], "event_type": ["clicks", "orders"], "aid": [5, 88]}
    )
    with caplog.at_level(logging.WARNING):
        interactions, item_map, session_map, test_sessions, test_labels = build_interactions(
            train, test, labels
        )
    assert item_map["aid"].tolist() == [5, 9, 77, 88]  # train, test only, labels only
    assert item_map["seen_in_train"].tolist() == [True, True, False, False]
    assert session_map.to_dict("list") == {
        "session": [0, 1, 2],
        "original_session": [100, 101, 500],
        "source": ["train", "train", "test"],
    }
    assert interactions["session"].tolist() == [0, 0, 1, 2, 2]
    assert interactions["item"].tolist() == [0, 1, 1, 1, 2]
    assert test_sessions["session"].tolist() == [2, 2]
    assert test_labels.to_dict("list") == {
        "session": [2, 2],
        "event_type": ["clicks", "orders"],
        "item": [0, 3],
    }
    assert "otto_test: 1 items never occur in training" in caplog.text
    assert "otto_test_labels: 1 label items occur in no session" in caplog.text


def test_a_session_in_both_files_is_rejected():
    train = raw([(100, 5, 1, 0)])
    with pytest.raises(
        ValueError, match=r"otto_train and otto_test share 1 session id\(s\) in field 'session'"
    ):
        build_interactions(train, raw([(100, 5, 9, 0)]), NO_LABELS)


def test_labels_of_unknown_sessions_are_rejected():
    labels = pd.DataFrame({"session": [999], "event_type": ["clicks"], "aid": [5]})
    with pytest.raises(
        ValueError,
        match=r"otto_test_labels field 'session' has 1 label\(s\) of sessions not in otto_test",
    ):
        build_interactions(raw([(1, 5, 1, 0)]), raw([(2, 5, 9, 0)]), labels)


def test_truncation_matches_a_hand_computed_case():
    events = pd.DataFrame(
        {
            "session": [0, 0, 0, 0, 0],
            "item": [1, 2, 2, 3, 4],
            "ts": [1, 2, 3, 4, 5],
            "type": [0, 0, 1, 0, 2],
        }
    )

    class Cut:  # the random cut, fixed at 2 events
        def integers(self, low, high):
            return np.array([2])

    prefix, labels = truncate_sessions(events, Cut())
    assert prefix["item"].tolist() == [1, 2]
    assert labels.to_dict("list") == {
        "session": [0, 0, 0],
        "event_type": ["carts", "clicks", "orders"],
        "item": [2, 3, 4],
    }


def test_validation_is_the_last_days_truncated_and_one_event_sessions_are_left_out(caplog):
    rows = []
    for session in range(40):  # 30 days of sessions with 3 events each
        start = session * DAY * 30 // 40
        rows += [(session, session % 7, start + k, 0) for k in range(3)]
    rows.append((40, 1, 29 * DAY + 50, 0))  # a one-event session in the last week
    interactions = pd.DataFrame(rows, columns=["session", "item", "ts", "type"])
    session_map = pd.DataFrame({"session": range(41), "source": "train"})
    with caplog.at_level(logging.INFO):
        train, valid, labels = split_validation(interactions, session_map, {"valid_days": 7}, 1)
    cutoff = interactions["ts"].max() - 7 * DAY
    assert train["ts"].max() < cutoff
    assert set(valid["session"]).isdisjoint(train["session"])
    assert valid.groupby("session").size().between(1, 2).all()
    assert 40 not in set(valid["session"])
    assert "1 one-event sessions cannot be truncated" in caplog.text
    assert set(labels["session"]) <= set(valid["session"])
    again = split_validation(interactions, session_map, {"valid_days": 7}, 1)
    pd.testing.assert_frame_equal(again[1], valid)
    with pytest.raises(ValueError, match=r"data_preparation\.valid_days=40 leaves no training"):
        split_validation(interactions, session_map, {"valid_days": 40}, 1)
    # The training file's sessions are the first rows; test sessions after them are not read.
    with_test = session_map.assign(source=["train"] * 40 + ["test"])
    refit = refit_sessions(interactions, with_test, train, {"refit": True})
    assert set(refit["session"]) == set(range(40)) and len(refit) == 120
    with pytest.raises(ValueError, match="interactions: expected the training file's sessions"):
        refit_sessions(interactions.iloc[::-1], with_test, train, {"refit": True})
    # refit: false -> the test week's models see only the training sessions (no validation week)
    assert refit_sessions(interactions, with_test, train, {"refit": False}) is train


HM = pd.DataFrame(
    {
        "t_dat": ["2020-09-01", "2020-09-01", "2020-08-01"],
        "customer_id": ["b" * 64, "a" * 64, "b" * 64],
        "article_id": ["0108775015", "0108775044", "0108775044"],
        "price": [0.05, 0.02, 0.02],
        "sales_channel_id": [2, 1, 2],
    }
)


def test_hm_transactions_become_time_ordered_sequences_per_customer():
    interactions, item_map, session_map = transactions_to_interactions(HM)
    assert session_map["customer_id"].tolist() == ["a" * 64, "b" * 64]
    assert item_map["article_id"].tolist() == ["0108775015", "0108775044"]
    assert interactions.to_dict("list") == {
        "session": [0, 1, 1],
        "item": [1, 1, 0],
        "ts": [1598918400, 1596240000, 1598918400],
        "type": [2, 2, 2],
    }


def test_hm_ids_read_as_numbers_and_bad_dates_are_rejected():
    with pytest.raises(
        ValueError, match=r"hm_transactions column 'article_id' holds '108775015\.0'"
    ):
        transactions_to_interactions(HM.assign(article_id=[1.08775015e8] * 3))
    with pytest.raises(
        ValueError, match=r"hm_transactions column 't_dat' row 1 holds '2020-13-01'"
    ):
        transactions_to_interactions(HM.assign(t_dat=["2020-09-01", "2020-13-01", "2020-08-01"]))
    with pytest.raises(ValueError, match=r"hm_transactions lacks column\(s\) \['price'\]"):
        transactions_to_interactions(HM.drop(columns="price"))


def test_a_validation_sample_keeps_whole_sessions_and_leaves_the_rest_out_of_training():
    rows = []
    for session in range(200):  # 30 days of sessions with 4 events each
        start = session * DAY * 30 // 200
        rows += [(session, session % 11, start + k, k % 2) for k in range(4)]
    interactions = pd.DataFrame(rows, columns=["session", "item", "ts", "type"])
    session_map = pd.DataFrame({"session": range(200), "source": "train"})
    params = {"valid_days": 7, "max_valid_sessions": None}
    train, full, _ = split_validation(interactions, session_map, params, 1)
    assert full["session"].nunique() > 20
    train_sampled, valid, labels = split_validation(
        interactions, session_map, {**params, "max_valid_sessions": 20}, 1
    )
    assert valid["session"].nunique() == 20
    assert set(labels["session"]) <= set(valid["session"]) <= set(full["session"])
    pd.testing.assert_frame_equal(train_sampled, train)  # the unsampled sessions do not train
    again = split_validation(interactions, session_map, {**params, "max_valid_sessions": 20}, 1)
    pd.testing.assert_frame_equal(again[1], valid)

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.pipelines.gnn_inference.nodes import predict_next_items
from tests.pipelines.session_data import N_ITEMS, tiny_split, trained_checkpoint

PARAMS = {"device": "cpu", "num_threads": 1, "top_k": 20, "batch_size": 16, "exclude_seen": False}


def test_predictions_follow_the_shared_format():
    _, valid, _ = tiny_split()
    predictions = predict_next_items(trained_checkpoint(), valid, PARAMS, "valid_sessions")
    assert list(predictions.columns) == ["session", "event_type", "item", "rank", "score"]
    assert set(predictions["event_type"]) == {"clicks", "carts", "orders"}
    assert set(predictions["session"]) == set(valid["session"])
    per_list = predictions.groupby(["session", "event_type"])
    assert all(ranks == list(range(1, 21)) for ranks in per_list["rank"].apply(list))
    assert (per_list["score"].diff().dropna() <= 0).all()
    assert (per_list["item"].nunique() == 20).all()
    assert predictions["item"].between(0, N_ITEMS - 1).all()


def test_items_of_the_session_are_kept_by_default_and_dropped_on_request():
    _, valid, _ = tiny_split()
    seen = set(zip(valid["session"], valid["item"], strict=True))

    def n_seen(predictions: pd.DataFrame) -> int:
        pairs = zip(predictions["session"], predictions["item"], strict=True)
        return sum(pair in seen for pair in pairs)

    kept = predict_next_items(trained_checkpoint(), valid, PARAMS, "valid_sessions")
    dropped = predict_next_items(
        trained_checkpoint(), valid, {**PARAMS, "exclude_seen": True}, "valid_sessions"
    )
    assert n_seen(kept) > 0
    assert n_seen(dropped) == 0
    assert len(dropped) == len(kept)
    assert (dropped.groupby(["session", "event_type"])["score"].diff().dropna() <= 0).all()


def test_unknown_items_are_refused_with_the_dataset_name():
    _, valid, _ = tiny_split()
    broken = valid.assign(item=np.where(valid.index == 0, N_ITEMS + 5, valid["item"]))
    with pytest.raises(ValueError, match=r"test_sessions has item 105 but the model knows 100"):
        predict_next_items(trained_checkpoint(), broken, PARAMS, "test_sessions")


def test_session_items_rank_first_for_the_configured_types_only():
    _, valid, _ = tiny_split()
    checkpoint = trained_checkpoint()
    assert checkpoint["config"]["session_items_first"] == ["carts", "orders"]
    plain = {**checkpoint, "config": {**checkpoint["config"], "session_items_first": []}}
    ruled = predict_next_items(checkpoint, valid, PARAMS, "valid_sessions")
    unruled = predict_next_items(plain, valid, PARAMS, "valid_sessions")
    own = valid.groupby("session")["item"].apply(set)

    def leading(predictions: pd.DataFrame, event_type: str) -> pd.Series:
        """Per session: are its own items exactly the first len(own) of the list?"""
        lists = predictions[predictions["event_type"] == event_type].groupby("session")["item"]
        return lists.apply(lambda items: set(items.iloc[: len(own[items.name])]) == own[items.name])

    assert leading(ruled, "orders").all()
    assert leading(ruled, "carts").all()
    assert not leading(unruled, "orders").all()  # without the rule the model ranks freely
    clicks = ruled["event_type"] == "clicks"
    assert (
        ruled[clicks]["item"].tolist()
        == unruled[unruled["event_type"] == "clicks"]["item"].tolist()
    )
    # New items after the session's own follow the clicks head.
    first = ruled[
        (ruled["event_type"] == "orders") & (ruled["session"] == valid["session"].iloc[0])
    ]
    new = [item for item in first["item"] if item not in own[valid["session"].iloc[0]]]
    click_list = ruled[clicks & (ruled["session"] == valid["session"].iloc[0])]["item"].tolist()
    assert (
        new
        == [item for item in click_list if item not in own[valid["session"].iloc[0]]][: len(new)]
    )

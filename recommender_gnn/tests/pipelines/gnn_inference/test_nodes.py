import numpy as np
import pytest

from recommender_gnn.pipelines.gnn_inference.nodes import (
    predict_test_sessions,
    predict_valid_sessions,
)
from tests.pipelines.session_data import N_ITEMS, tiny_split, trained_checkpoint

PARAMS = {"device": "cpu", "num_threads": 1, "top_k": 20, "batch_size": 16, "block_items": 32}


def test_candidates_of_new_items_in_the_shared_format():
    _, valid, _ = tiny_split()
    candidates = predict_valid_sessions(trained_checkpoint(), valid, PARAMS)
    assert list(candidates.columns) == ["session", "event_type", "item", "rank", "score"]
    assert str(candidates["event_type"].dtype) == "category"
    assert set(candidates["session"]) == set(valid["session"])
    per_list = candidates.groupby(["session", "event_type"], observed=True)
    assert (per_list.size() == 20).all()
    assert (per_list["item"].nunique() == 20).all()
    own = set(zip(valid["session"], valid["item"], strict=True))
    pairs = zip(candidates["session"], candidates["item"], strict=True)
    assert not any(pair in own for pair in pairs)  # the seen-item policy adds those later
    assert candidates["item"].between(0, N_ITEMS - 1).all()


def test_unknown_items_are_refused_with_the_dataset_name():
    _, valid, _ = tiny_split()
    broken = valid.assign(item=np.where(valid.index == 0, N_ITEMS + 5, valid["item"]))
    with pytest.raises(ValueError, match=r"test_sessions has item 105 but the model knows 100"):
        predict_test_sessions(trained_checkpoint(), broken, PARAMS)

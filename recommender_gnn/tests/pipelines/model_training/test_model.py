import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import Batch

from recommender_gnn.pipelines.model_training.graphs import SessionEvents, session_graph
from recommender_gnn.pipelines.model_training.model import SessionGNN, select_device
from recommender_gnn.pipelines.model_training.nodes import (
    EarlyStopping,
    load_model,
    next_click_targets,
    top_items,
    train_session_gnn,
)
from tests.pipelines.session_data import N_ITEMS, item_map, tiny_split, training_params


def tiny_params(**overrides) -> dict:
    return training_params(**overrides)


@pytest.fixture(scope="module")
def split():
    return tiny_split()


def _graphs() -> tuple[Batch, torch.Tensor]:
    batch = Batch.from_data_list(
        [session_graph([5, 3, 5, 7], [0, 0, 1, 0]), session_graph([1, 2]), session_graph([9])]
    )
    return batch, torch.tensor([8, 3, 10])


def test_forward_pass_scores_every_item_for_every_session():
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=2)
    graphs, _ = _graphs()
    assert model.session_embedding(graphs).shape == (3, 8)
    assert model(graphs).shape == (3, 12)


@pytest.mark.parametrize("n_negatives", [None, 6])
def test_one_training_step_lowers_the_loss(n_negatives):
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=1)
    graphs, targets = _graphs()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    sampler = torch.Generator().manual_seed(0)
    before = model.loss(graphs, targets, n_negatives, sampler)
    optimizer.zero_grad()
    before.backward()
    optimizer.step()
    after = model.loss(graphs, targets, n_negatives, torch.Generator().manual_seed(0))
    assert after.item() < before.item()


def test_sampled_softmax_masks_negatives_that_are_the_target():
    torch.manual_seed(0)
    model = SessionGNN(n_items=2, embedding_dim=4, n_steps=1)
    graphs = Batch.from_data_list([session_graph([0]), session_graph([1])])
    # With 2 items every negative drawn often equals the target: masked, the loss stays finite.
    loss = model.loss(graphs, torch.tensor([1, 0]), 50, torch.Generator().manual_seed(0))
    assert torch.isfinite(loss)


def test_early_stopping_waits_patience_epochs_and_remembers_the_best():
    stopping = EarlyStopping(patience=2)
    decisions = [
        stopping.step(epoch, metric) for epoch, metric in enumerate([0.1, 0.3, 0.2, 0.3], 1)
    ]
    assert decisions == [False, False, False, True]
    assert (stopping.best_epoch, stopping.best) == (2, 0.3)
    assert not EarlyStopping(patience=2, min_delta=0.05).step(1, 0.1)


def test_training_stops_early_and_keeps_the_best_epoch(split):
    train, valid, labels = split
    # A learning rate this high makes validation recall fall after the first epoch.
    checkpoint, history = train_session_gnn(
        train,
        valid,
        labels,
        item_map(N_ITEMS),
        tiny_params(
            max_epochs=10, learning_rate=3.0, early_stopping={"patience": 1, "min_delta": 0}
        ),
    )
    assert len(history) < 10
    best = history["valid_recall_at_20_clicks"].idxmax()
    assert checkpoint["best_epoch"] == history["epoch"][best]
    assert (
        checkpoint["best_valid_recall_at_20_clicks"] == history["valid_recall_at_20_clicks"].max()
    )


def test_training_learns_the_planted_transitions_and_is_deterministic(split):
    train, valid, labels = split
    first, history = train_session_gnn(train, valid, labels, item_map(N_ITEMS), tiny_params())
    second, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), tiny_params())
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    # Chance is 20/100; the planted rule makes the successor the next click 80% of the time.
    assert first["best_valid_recall_at_20_clicks"] > 0.6
    for name, tensor in first["state_dict"].items():
        assert torch.equal(tensor, second["state_dict"][name]), name
    third, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), tiny_params(seed=1))
    assert not torch.equal(
        first["state_dict"]["item_embedding.weight"], third["state_dict"]["item_embedding.weight"]
    )
    model = load_model(first)
    assert model.item_embedding.weight.shape == (N_ITEMS, 16)


def test_sampled_softmax_is_used_above_the_size_parameter(split, caplog):
    train, valid, labels = split
    params = tiny_params(max_epochs=1, sampled_softmax={"above_n_items": 10, "n_negatives": 8})
    with caplog.at_level("INFO"):
        checkpoint, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), params)
    assert "sampled (8 negatives)" in caplog.text
    assert checkpoint["state_dict"] is not None


def test_items_beyond_the_item_map_are_refused(split):
    train, valid, labels = split
    with pytest.raises(ValueError, match="item_map lists only 10 items"):
        train_session_gnn(train, valid, labels, item_map(10), tiny_params(max_epochs=1))


def test_next_click_targets_take_the_click_rows():
    labels = pd.DataFrame(
        {"session": [1, 1, 2], "event_type": ["clicks", "orders", "carts"], "item": [4, 5, 6]}
    )
    assert next_click_targets(labels).to_dict() == {1: 4}
    with pytest.raises(ValueError, match=r"valid_labels lacks column\(s\) \['event_type'\]"):
        next_click_targets(labels.drop(columns="event_type"))


def test_device_selection_uses_the_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device("auto") == torch.device("cpu")
    assert select_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="torch sees no CUDA device"):
        select_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto") == torch.device("cuda")


def test_top_items_rank_the_planted_successor_first(split):
    train, valid, labels = split
    checkpoint, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), tiny_params())
    events = SessionEvents(valid, "valid_sessions")
    items, scores = top_items(load_model(checkpoint), events, 30, 20, 32, "cpu")
    assert items.shape == scores.shape == (events.sessions.size, 20)
    assert (np.diff(scores, axis=1) <= 0).all()
    last_items = events.items[events.offsets + events.lengths - 1]
    assert ((items[:, 0] == (last_items + 1) % N_ITEMS).mean()) > 0.6

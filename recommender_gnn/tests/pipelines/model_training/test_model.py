import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import Batch

from recommender_gnn.pipelines.model_training.graphs import SessionEvents, session_graph
from recommender_gnn.pipelines.model_training.model import SessionGNN, select_device
from recommender_gnn.pipelines.model_training.nodes import (
    EarlyStopping,
    future_targets,
    load_model,
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
    # (graph, event type, item): next clicks, a later cart of an item in the session, two orders
    targets = [[0, 0, 8], [1, 0, 3], [2, 0, 10], [0, 1, 5], [1, 2, 2], [1, 2, 11]]
    return batch, torch.tensor(targets)


def test_forward_pass_scores_every_item_for_every_session():
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=2)
    graphs, _ = _graphs()
    sessions, repeat = model.encode(graphs)
    assert sessions.shape == (3, 3, 8)  # graphs, event types, dim
    assert repeat.shape == (graphs.num_nodes, 3)
    scores = model(graphs)
    assert scores.shape == (3, 3, 12)
    assert torch.allclose(model(graphs, event_type=2), scores[:, 2])
    # Items of the session get their repeat score on top of the dot product, others do not.
    plain = sessions @ model.item_embedding.weight.T
    assert torch.allclose(scores[0, :, 5] - plain[0, :, 5], repeat[1])  # node 1 of graph 0: 5
    assert torch.allclose(scores[0, :, 8], plain[0, :, 8])


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
    targets = torch.tensor([[0, 0, 1], [1, 0, 0]])
    loss = model.loss(graphs, targets, 50, torch.Generator().manual_seed(0))
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
            max_epochs=10,
            learning_rate=3.0,
            early_stopping={"patience": 1, "min_delta": 0},
        ),
    )
    assert len(history) < 10
    for name in ("clicks", "carts", "orders"):
        best = history[f"valid_{name}"].idxmax()
        assert checkpoint["best_epochs"][name] == history["epoch"][best]
        assert checkpoint["best_valid_recall"][name] == history[f"valid_{name}"].max()
    # It stopped because no head had improved for `patience` (1) epochs.
    assert max(checkpoint["best_epochs"].values()) == len(history) - 1


def test_training_learns_the_planted_transitions_and_is_deterministic(split):
    train, valid, labels = split
    first, history = train_session_gnn(train, valid, labels, item_map(N_ITEMS), tiny_params())
    second, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), tiny_params())
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    # Chance is 20/100; the planted rule makes the successor the next click 80% of the time.
    assert history["valid_clicks"].max() > 0.6
    for head, state in first["state_dicts"].items():
        for name, tensor in state.items():
            assert torch.equal(tensor, second["state_dicts"][head][name]), name
    third, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), tiny_params(seed=1))
    assert not torch.equal(
        first["state_dicts"]["clicks"]["item_embedding.weight"],
        third["state_dicts"]["clicks"]["item_embedding.weight"],
    )
    model = load_model(first)
    assert model.models["clicks"].item_embedding.weight.shape == (N_ITEMS, 16)


def test_sampled_softmax_is_used_above_the_size_parameter(split, caplog):
    train, valid, labels = split
    params = tiny_params(max_epochs=1, sampled_softmax={"above_n_items": 10, "n_negatives": 8})
    with caplog.at_level("INFO"):
        checkpoint, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), params)
    assert "sampled (8 negatives)" in caplog.text
    assert set(checkpoint["state_dicts"]) == {"clicks", "carts", "orders"}


def test_items_beyond_the_item_map_are_refused(split):
    train, valid, labels = split
    with pytest.raises(ValueError, match="item_map lists only 10 items"):
        train_session_gnn(train, valid, labels, item_map(10), tiny_params(max_epochs=1))


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


def test_labels_without_their_columns_are_refused(split):
    train, valid, labels = split
    with pytest.raises(ValueError, match=r"valid_labels lacks column\(s\) \['event_type'\]"):
        train_session_gnn(
            train, valid, labels.drop(columns="event_type"), item_map(N_ITEMS), tiny_params()
        )


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
    assert items.shape == scores.shape == (events.sessions.size, 3, 20)
    assert (np.diff(scores, axis=2) <= 0).all()
    last_items = events.items[events.offsets + events.lengths - 1]
    assert ((items[:, 0, 0] == (last_items + 1) % N_ITEMS).mean()) > 0.4  # chance: 0.01

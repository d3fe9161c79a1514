import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from recommender_gnn.pipelines.model_training.graphs import (
    SessionEvents,
    batch_session_graphs,
    session_graph,
)
from tests.pipelines.session_data import make_sessions


def _item_edges(graph) -> set[tuple[int, int]]:
    items = graph.x.tolist()
    return {(items[s], items[d]) for s, d in graph.edge_index.T.tolist()}


def test_hand_made_session_graph():
    graph = session_graph([5, 3, 5, 7], types=[0, 0, 1, 0])
    assert graph.x.tolist() == [3, 5, 7]
    assert _item_edges(graph) == {(5, 3), (3, 5), (5, 7)}
    assert graph.edge_index.shape == (2, 3)
    assert graph.x[graph.last_index].tolist() == [7]
    assert graph.node_type.tolist() == [0, 1, 0]  # item 5 was carted once: its strongest event
    assert graph.node_count.tolist() == [1, 2, 1]
    assert graph.node_recency.tolist() == [2, 1, 0]  # events since each item's last occurrence


def test_repeated_transitions_are_one_edge_and_self_loops_stay():
    graph = session_graph([1, 2, 1, 2, 2])
    assert _item_edges(graph) == {(1, 2), (2, 1), (2, 2)}
    assert graph.edge_index.shape[1] == 3
    assert graph.x[graph.last_index].tolist() == [2]


def test_vectorised_batch_equals_pyg_batch_of_single_graphs():
    sessions = [[5, 3, 5, 7], [9], [2, 2, 4], [7, 5, 3]]
    types = [[0, 1, 0, 2], [1], [0, 0, 0], [2, 2, 0]]
    expected = Batch.from_data_list(
        [
            session_graph(s, t, target=i)
            for i, (s, t) in enumerate(zip(sessions, types, strict=True))
        ]
    )
    sequence = np.repeat(np.arange(len(sessions)), [len(s) for s in sessions])
    batch = batch_session_graphs(
        sequence, np.concatenate(sessions), np.concatenate(types), targets=np.arange(4)
    )
    assert batch.num_graphs == expected.num_graphs == 4
    keys = ("x", "node_type", "node_count", "node_recency", "edge_index", "last_index", "batch")
    for key in (*keys, "ptr", "y"):
        assert torch.equal(batch[key], expected[key]), key


def test_session_events_build_prefix_graphs_of_at_most_max_length():
    events = make_sessions(n_sessions=5, n_items=20, seed=1)
    table = SessionEvents(events.sample(frac=1.0, random_state=0), "sessions")  # order restored
    first = events[events["session"] == 0]
    graphs = table.graphs(table.offsets[:1], table.offsets[:1] + len(first), max_length=3)
    assert set(graphs.x.tolist()) == set(first["item"].iloc[-3:])
    assert graphs.x[graphs.last_index].tolist() == [first["item"].iloc[-1]]


def test_session_events_name_the_missing_column():
    events = make_sessions(n_sessions=3).drop(columns="type")
    with pytest.raises(ValueError, match=r"train_sessions lacks column\(s\) \['type'\]"):
        SessionEvents(events, "train_sessions")

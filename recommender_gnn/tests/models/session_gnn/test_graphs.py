import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from recommender_gnn.models.session_gnn.graphs import (
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
    # The node of every event in time order: the readout attends over positions.
    assert graph.x[graph.position_index].tolist() == [5, 3, 5, 7]


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
    keys = ("x", "node_type", "edge_index", "last_index", "position_index", "batch")
    for key in (*keys, "ptr", "y"):
        assert torch.equal(batch[key], expected[key]), key


def test_session_events_build_prefix_graphs_of_at_most_max_length():
    events = make_sessions(n_sessions=5, n_items=20, seed=1)
    table = SessionEvents(events.sample(frac=1.0, random_state=0), "sessions")  # order restored
    first = events[events["session"] == 0]
    graphs = table.graphs(table.offsets[:1], table.offsets[:1] + len(first), max_length=3)
    assert set(graphs.x.tolist()) == set(first["item"].iloc[-3:])
    assert graphs.x[graphs.last_index].tolist() == [first["item"].iloc[-1]]
    assert graphs.x[graphs.position_index].tolist() == first["item"].iloc[-3:].tolist()


def test_session_events_keep_the_sessions_that_ended_last():
    events = make_sessions(n_sessions=6, n_items=20, seed=2)
    # Session 0 ends last, then 5, 4, ... (session s starts at 1000 s, 0 is moved to the end).
    events.loc[events["session"] == 0, "ts"] += 10**6
    table = SessionEvents(events, "sessions")
    assert table.items.dtype == np.int32 and table.types.dtype == np.int8
    recent = table.most_recent(3)
    assert recent.sessions.tolist() == [0, 4, 5]
    kept = events[events["session"].isin([0, 4, 5])]
    assert recent.items.tolist() == kept["item"].tolist()
    assert recent.n_pairs == len(kept) - 3
    graphs = recent.graphs(recent.offsets, recent.offsets + recent.lengths, max_length=50)
    assert graphs.x[graphs.position_index].tolist() == kept["item"].tolist()


def test_session_events_name_the_missing_column():
    events = make_sessions(n_sessions=3).drop(columns="type")
    with pytest.raises(ValueError, match=r"train_sessions lacks column\(s\) \['type'\]"):
        SessionEvents(events, "train_sessions")


def test_a_basket_links_to_the_next_basket_and_has_no_inner_transitions():
    # Days 0, 0, 1, 1, 2: baskets {1, 2} -> {3, 4} -> {5}.
    graph = session_graph([1, 2, 3, 4, 5], baskets=[0, 0, 1, 1, 2])
    assert _item_edges(graph) == {(1, 3), (1, 4), (2, 3), (2, 4), (3, 5), (4, 5)}
    assert graph.x[graph.last_index].tolist() == [5]
    # The order inside a basket carries nothing: the same graph, and the last basket whole.
    shuffled = session_graph([2, 1, 4, 3, 5], baskets=[0, 0, 1, 1, 2])
    for key in ("x", "edge_index", "last_index"):
        assert torch.equal(graph[key], shuffled[key]), key
    ends_in_a_basket = session_graph([1, 2, 3, 4, 5], baskets=[0, 0, 1, 1, 1])
    assert ends_in_a_basket.x[ends_in_a_basket.last_index].tolist() == [3, 4, 5]
    assert _item_edges(ends_in_a_basket) == {(1, 3), (1, 4), (1, 5), (2, 3), (2, 4), (2, 5)}


def test_vectorised_basket_batch_equals_pyg_batch_of_single_graphs():
    sessions = [[5, 3, 5, 7], [9], [2, 2, 4], [7, 5, 3, 8, 1]]
    days = [[0, 0, 1, 1], [3], [1, 2, 2], [0, 0, 0, 4, 5]]
    expected = Batch.from_data_list(
        [session_graph(s, baskets=d) for s, d in zip(sessions, days, strict=True)]
    )
    sequence = np.repeat(np.arange(len(sessions)), [len(s) for s in sessions])
    items = np.concatenate(sessions)
    batch = batch_session_graphs(sequence, items, np.zeros_like(items), None, np.concatenate(days))
    for key in ("x", "edge_index", "last_index", "position_index", "batch", "ptr"):
        assert torch.equal(batch[key], expected[key]), key

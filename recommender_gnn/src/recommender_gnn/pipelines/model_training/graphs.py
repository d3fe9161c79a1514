"""Session graphs, SR-GNN style: one small directed graph per session prefix.

Nodes are the prefix's unique items (sorted by item id), edges its transitions (deduplicated,
self-loops kept: a re-clicked item points at itself), ``last_index`` the node of the last event;
per node: ``node_type`` (its strongest event: 0 click, 1 cart, 2 order), ``node_count`` (events)
and ``node_recency`` (events since its last occurrence; 0 for the last item).
``session_graph`` builds one PyG ``Data``; ``batch_session_graphs`` builds the same graphs for a
whole mini-batch at once with NumPy and returns the PyG ``Batch`` that
``Batch.from_data_list`` would (a test checks that they are equal), without a Python loop per
session: at OTTO scale the per-session loop would cost more than the GNN itself.
"""

import numpy as np
import torch
from torch_geometric.data import Batch, Data


def session_graph(items, types=None, target: int | None = None) -> Data:
    """The graph of one session prefix (``items`` in time order; ``types`` 0/1/2 per event)."""
    items = np.asarray(items, dtype=np.int64)
    types = np.zeros_like(items) if types is None else np.asarray(types, dtype=np.int64)
    if items.size == 0:
        raise ValueError("session_graph needs at least one event; the prefix is empty")
    node_items, node_of_event = np.unique(items, return_inverse=True)
    node_types = np.zeros(node_items.size, dtype=np.int64)
    np.maximum.at(node_types, node_of_event, types)
    node_last_seen = np.zeros(node_items.size, dtype=np.int64)
    np.maximum.at(node_last_seen, node_of_event, np.arange(items.size))
    pairs = np.unique(np.stack([node_of_event[:-1], node_of_event[1:]], axis=1), axis=0)
    data = Data(
        x=torch.from_numpy(node_items),
        node_type=torch.from_numpy(node_types),
        node_count=torch.from_numpy(np.bincount(node_of_event)),
        node_recency=torch.from_numpy(items.size - 1 - node_last_seen),
        edge_index=torch.from_numpy(pairs.T.copy()).reshape(2, -1),
        last_index=torch.tensor([node_of_event[-1]]),
        num_nodes=int(node_items.size),
    )
    if target is not None:
        data.y = torch.tensor([target])
    return data


def batch_session_graphs(
    sequence: np.ndarray, items: np.ndarray, types: np.ndarray, targets: np.ndarray | None = None
) -> Batch:
    """Graphs of many prefixes at once.

    ``sequence`` numbers the prefixes 0..B-1 (non-decreasing, every number present); ``items``
    and ``types`` hold their events in time order, one row per event.
    """
    sequence = np.asarray(sequence, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    types = np.asarray(types, dtype=np.int64)
    n_graphs = int(sequence[-1]) + 1
    stride = int(items.max()) + 1
    node_keys, node_of_event = np.unique(sequence * stride + items, return_inverse=True)
    node_graph = node_keys // stride
    node_types = np.zeros(node_keys.size, dtype=np.int64)
    np.maximum.at(node_types, node_of_event, types)

    same_graph = sequence[1:] == sequence[:-1]
    n_nodes = node_keys.size
    # Steps from the prefix's end to each node's last occurrence, and occurrence counts.
    first_event = np.r_[0, np.flatnonzero(~same_graph) + 1]
    position = np.arange(sequence.size) - np.repeat(
        first_event, np.diff(np.r_[first_event, sequence.size])
    )
    length = np.diff(np.r_[first_event, sequence.size])
    node_last_seen = np.zeros(n_nodes, dtype=np.int64)
    np.maximum.at(node_last_seen, node_of_event, position)
    edge_keys = np.unique(node_of_event[:-1][same_graph] * n_nodes + node_of_event[1:][same_graph])
    last_event = np.append(np.flatnonzero(~same_graph), sequence.size - 1)

    batch = Batch(
        x=torch.from_numpy(node_keys % stride),
        node_type=torch.from_numpy(node_types),
        node_count=torch.from_numpy(np.bincount(node_of_event, minlength=n_nodes)),
        node_recency=torch.from_numpy(length[node_graph] - 1 - node_last_seen),
        edge_index=torch.from_numpy(np.stack([edge_keys // n_nodes, edge_keys % n_nodes])),
        last_index=torch.from_numpy(node_of_event[last_event]),
        batch=torch.from_numpy(node_graph),
        ptr=torch.from_numpy(np.searchsorted(node_graph, np.arange(n_graphs + 1))),
    )
    batch._num_graphs = n_graphs
    if targets is not None:
        batch.y = torch.as_tensor(np.asarray(targets, dtype=np.int64))
    return batch


def prefix_events(
    offsets: np.ndarray, ends: np.ndarray, max_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flat event positions of the prefixes ending (exclusively) at ``ends``.

    ``offsets[k]`` is where the session of prefix k starts in the flat event arrays; a prefix
    keeps at most its last ``max_length`` events. Returns (prefix number, event position).
    """
    starts = np.maximum(offsets, ends - max_length)
    lengths = ends - starts
    sequence = np.repeat(np.arange(ends.size), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.repeat(starts, lengths) + np.arange(sequence.size) - first
    return sequence, positions


EVENT_COLUMNS = ("session", "item", "ts", "type")


class SessionEvents:
    """A session table as flat arrays in time order: what graph batching slices from.

    ``sessions`` holds the session ids, ``offsets``/``lengths`` where each one's events are.
    """

    def __init__(self, events, dataset: str) -> None:
        missing = [column for column in EVENT_COLUMNS if column not in events.columns]
        if missing:
            raise ValueError(
                f"{dataset} lacks column(s) {missing}; expected one row per event with "
                f"{list(EVENT_COLUMNS)} (the canonical interactions schema); it has "
                f"{sorted(events.columns)}"
            )
        ordered = events.sort_values(["session", "ts"], kind="stable")
        session = ordered["session"].to_numpy(dtype=np.int64)
        self.items = ordered["item"].to_numpy(dtype=np.int64)
        self.types = ordered["type"].to_numpy(dtype=np.int64)
        if self.items.size and self.items.min() < 0:
            raise ValueError(f"{dataset}: column 'item' must hold item indices >= 0")
        if self.types.size and not np.isin(self.types, (0, 1, 2)).all():
            raise ValueError(
                f"{dataset}: column 'type' must be 0 (clicks), 1 (carts) or 2 (orders)"
            )
        starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if session.size else []
        self.offsets = np.asarray(starts, dtype=np.int64)
        self.lengths = np.diff(np.append(self.offsets, session.size))
        self.sessions = session[self.offsets] if session.size else np.array([], dtype=np.int64)

    def graphs(self, offsets: np.ndarray, ends: np.ndarray, max_length: int, targets=None) -> Batch:
        """The batched graphs of the prefixes [offsets, ends) (at most ``max_length`` events)."""
        sequence, positions = prefix_events(offsets, ends, max_length)
        return batch_session_graphs(sequence, self.items[positions], self.types[positions], targets)

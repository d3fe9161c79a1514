"""Session graphs, SR-GNN style: one small directed graph per session prefix.

Nodes are the prefix's unique items (sorted by item id), edges its transitions (deduplicated,
self-loops kept: a re-clicked item points at itself), ``last_index`` the node of the last event
(with baskets, H&M: the nodes of the last basket, which the readout averages),
``position_index`` the node of every event of the prefix in time order (SR-GNN's readout
attends over positions, so a re-visited item counts each time), ``node_type`` each node's
strongest event (0 click, 1 cart, 2 order).
``session_graph`` builds one PyG ``Data``; ``batch_session_graphs`` builds the same graphs for a
whole mini-batch at once with NumPy and returns the PyG ``Batch`` that
``Batch.from_data_list`` would (a test checks that they are equal), without a Python loop per
session: at OTTO scale the per-session loop would cost more than the GNN itself.
"""

import numpy as np
import torch
from torch_geometric.data import Batch, Data


def transitions(sequence: np.ndarray, baskets: np.ndarray | None = None):
    """(from event, to event) of every transition inside the prefixes numbered ``sequence``.

    Without ``baskets``: each event to the next one. With them (a key per event, e.g. the day:
    equal keys in a row are one basket, bought together, in no order), every item of a basket
    to every item of the next basket, and none inside a basket.
    """
    n = sequence.size
    if baskets is None:
        source = np.flatnonzero(sequence[1:] == sequence[:-1])
        return source, source + 1
    baskets = np.asarray(baskets)
    new = np.r_[True, (sequence[1:] != sequence[:-1]) | (baskets[1:] != baskets[:-1])]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.r_[starts, n])
    linked = np.flatnonzero(sequence[starts[1:]] == sequence[starts[:-1]])  # basket b -> b + 1
    n_pairs = sizes[linked] * sizes[linked + 1]
    within = np.arange(n_pairs.sum()) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    width = np.repeat(sizes[linked + 1], n_pairs)
    source = np.repeat(starts[linked], n_pairs) + within // width
    return source, np.repeat(starts[linked + 1], n_pairs) + within % width


def last_events(sequence: np.ndarray, baskets: np.ndarray | None = None) -> np.ndarray:
    """The last event of each prefix, or every event of its last basket."""
    ends = np.r_[sequence[1:] != sequence[:-1], True]
    if baskets is None:
        return np.flatnonzero(ends)
    baskets = np.asarray(baskets)
    last_key = np.repeat(baskets[ends], np.bincount(sequence))
    return np.flatnonzero(baskets == last_key)


def session_graph(items, types=None, target: int | None = None, baskets=None) -> Data:
    """The graph of one session prefix (``items`` in time order; ``types`` 0/1/2 per event;
    ``baskets`` as in ``transitions``)."""
    items = np.asarray(items, dtype=np.int64)
    types = np.zeros_like(items) if types is None else np.asarray(types, dtype=np.int64)
    if items.size == 0:
        raise ValueError("session_graph needs at least one event; the prefix is empty")
    node_items, node_of_event = np.unique(items, return_inverse=True)
    node_types = np.zeros(node_items.size, dtype=np.int64)
    np.maximum.at(node_types, node_of_event, types)
    sequence = np.zeros(items.size, dtype=np.int64)
    source, target_event = transitions(sequence, baskets)
    pairs = np.unique(np.stack([node_of_event[source], node_of_event[target_event]], 1), axis=0)
    data = Data(
        x=torch.from_numpy(node_items),
        node_type=torch.from_numpy(node_types),
        edge_index=torch.from_numpy(pairs.T.copy()).reshape(2, -1),
        last_index=torch.from_numpy(np.unique(node_of_event[last_events(sequence, baskets)])),
        position_index=torch.from_numpy(node_of_event.astype(np.int64)),
        num_nodes=int(node_items.size),
    )
    if target is not None:
        data.y = torch.tensor([target])
    return data


def batch_session_graphs(
    sequence: np.ndarray,
    items: np.ndarray,
    types: np.ndarray,
    targets: np.ndarray | None = None,
    baskets: np.ndarray | None = None,
) -> Batch:
    """Graphs of many prefixes at once.

    ``sequence`` numbers the prefixes 0..B-1 (non-decreasing, every number present); ``items``
    and ``types`` hold their events in time order, one row per event; ``baskets`` as in
    ``transitions``.
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

    n_nodes = node_keys.size
    source, target = transitions(sequence, baskets)
    edge_keys = np.unique(node_of_event[source] * n_nodes + node_of_event[target])
    batch = Batch(
        x=torch.from_numpy(node_keys % stride),
        node_type=torch.from_numpy(node_types),
        edge_index=torch.from_numpy(np.stack([edge_keys // n_nodes, edge_keys % n_nodes])),
        last_index=torch.from_numpy(np.unique(node_of_event[last_events(sequence, baskets)])),
        position_index=torch.from_numpy(node_of_event),
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

    ``sessions`` holds the session ids, ``offsets``/``lengths`` where each one's events are,
    ``last_ts`` when each one ended. Items are int32 and types int8 (OTTO: 216 M events), and a
    table already sorted by session and ts (the canonical contract) is not copied to be sorted.
    ``keep_ts`` keeps every event's ts (``ts``); ``baskets`` (implies it) makes events of equal
    ts in a session one basket in the graphs (H&M: a day's purchases).
    """

    def __init__(self, events, dataset: str, baskets: bool = False, keep_ts: bool = False) -> None:
        missing = [column for column in EVENT_COLUMNS if column not in events.columns]
        if missing:
            raise ValueError(
                f"{dataset} lacks column(s) {missing}; expected one row per event with "
                f"{list(EVENT_COLUMNS)} (the canonical interactions schema); it has "
                f"{sorted(events.columns)}"
            )
        session, ts = events["session"].to_numpy(), events["ts"].to_numpy()
        same = session[1:] == session[:-1]
        if not ((session[1:] >= session[:-1]).all() and (ts[1:][same] >= ts[:-1][same]).all()):
            events = events.sort_values(["session", "ts"], kind="stable")
            session, ts = events["session"].to_numpy(), events["ts"].to_numpy()
        items = events["item"].to_numpy()
        types = events["type"].to_numpy()
        if items.size and (items.min() < 0 or items.max() > np.iinfo(np.int32).max):
            raise ValueError(f"{dataset}: column 'item' must hold item indices 0..2**31-1")
        if types.size and not np.isin(types, (0, 1, 2)).all():
            raise ValueError(
                f"{dataset}: column 'type' must be 0 (clicks), 1 (carts) or 2 (orders)"
            )
        self.items = items.astype(np.int32, copy=False)
        self.types = types.astype(np.int8, copy=False)
        starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if session.size else []
        self.offsets = np.asarray(starts, dtype=np.int64)
        self.lengths = np.diff(np.append(self.offsets, session.size))
        self.sessions = session[self.offsets] if session.size else np.array([], dtype=np.int64)
        self.last_ts = ts[self.offsets + self.lengths - 1] if session.size else np.array([])
        self.baskets = baskets
        self.ts = ts.astype(np.int64) if baskets or keep_ts else None

    @property
    def n_pairs(self) -> int:
        """Training pairs: every prefix followed by an event."""
        return int(np.maximum(self.lengths - 1, 0).sum())

    def most_recent(self, n_sessions: int) -> "SessionEvents":
        """The ``n_sessions`` sessions that ended last (by last event ts), in session order."""
        if n_sessions >= self.sessions.size:
            return self
        keep = np.zeros(self.sessions.size, dtype=bool)
        keep[np.argsort(-self.last_ts, kind="stable")[:n_sessions]] = True
        subset = object.__new__(SessionEvents)
        event_kept = np.repeat(keep, self.lengths)
        subset.items, subset.types = self.items[event_kept], self.types[event_kept]
        subset.lengths = self.lengths[keep]
        subset.offsets = np.r_[0, np.cumsum(subset.lengths)[:-1]].astype(np.int64)
        subset.sessions, subset.last_ts = self.sessions[keep], self.last_ts[keep]
        subset.baskets = self.baskets
        subset.ts = None if self.ts is None else self.ts[event_kept]
        return subset

    def graphs(self, offsets: np.ndarray, ends: np.ndarray, max_length: int, targets=None) -> Batch:
        """The batched graphs of the prefixes [offsets, ends) (at most ``max_length`` events)."""
        sequence, positions = prefix_events(offsets, ends, max_length)
        baskets = self.ts[positions] if self.baskets else None
        return batch_session_graphs(
            sequence, self.items[positions], self.types[positions], targets, baskets
        )

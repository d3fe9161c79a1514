"""SR-GNN (Wu et al. 2019), ranking items for the three OTTO event types.

As published: each propagation step gives node i an incoming message, the mean over the
session's (deduplicated) transitions j->i of ``W_in h_j + b_in``, and an outgoing one, the mean
over i->j of ``W_out h_j + b_out`` (SR-GNN's degree-normalised A_in and A_out, each with its own
weights); their concatenation is the 2d-wide input of a GRU cell, the same weights at every
step. The readout attends over the prefix's event *positions* (a re-visited item counts each
time): alpha_p = q^T sigmoid(W1 v_last + W2 v_node(p) + c), s_g = sum_p alpha_p v_node(p),
s_h = W3 [v_last; s_g]; items are scored by dot product with their embeddings, and one session
vector ranks the items of every event type. An optional embedding of each node's strongest
event type is added to its input. Nothing favours the session's own items: a shared,
validation-chosen policy adds them afterwards for every model alike.

Options beyond the paper, off in ``SessionGNN`` by default and named in the config:
``per_type_heads`` (W3 gives three session vectors, clicks, carts, orders, the rarer carts and
orders a learnt correction of the clicks vector: measured worse on the generated data, README),
``normalise`` (NISER, Gupta et al. 2019: unit-length item embeddings in and out and unit-length
session vectors, logits ``scale`` x cosine, against the popularity bias of raw dot products)
and ``new_items_only`` in ``loss`` (candidates never hold the session's own items, so the
loss drops targets already in the prefix and leaves those items out of the softmax: the
likelihood of exactly what inference ranks).
"""

from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import scatter

from .softmax import blocked_softmax_loss

N_EVENT_TYPES = 3  # clicks, carts, orders: node input feature and prediction heads


class SessionGraphLayer(MessagePassing):
    """SR-GNN's gated propagation, ``n_steps`` times with shared weights (see the module)."""

    def __init__(self, dim: int, n_steps: int) -> None:
        super().__init__(aggr="mean")
        self.incoming = nn.Linear(dim, dim)
        self.outgoing = nn.Linear(dim, dim)
        self.gru = nn.GRUCell(2 * dim, dim)
        self.n_steps = n_steps

    def messages(self, nodes: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """``[in ; out]`` per node: means over its in- and out-edges (0 where it has none)."""
        incoming = self.propagate(edge_index, x=self.incoming(nodes))
        outgoing = self.propagate(edge_index.flip(0), x=self.outgoing(nodes))
        return torch.cat([incoming, outgoing], dim=1)

    def message(self, x_j: torch.Tensor) -> torch.Tensor:
        return x_j

    def forward(self, nodes: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for _ in range(self.n_steps):
            nodes = self.gru(self.messages(nodes, edge_index), nodes)
        return nodes


class SessionGNN(nn.Module):
    """SR-GNN (Wu et al. 2019), one session vector per event type (see the module)."""

    def __init__(
        self,
        n_items: int,
        embedding_dim: int,
        n_steps: int,
        use_event_types: bool = True,
        dropout: float = 0.0,
        normalise: bool = False,
        scale: float = 16.0,
        per_type_heads: bool = False,
    ) -> None:
        super().__init__()
        self.n_items = n_items
        self.embedding_dim = embedding_dim
        self.normalise = normalise
        self.scale = scale
        self.per_type_heads = per_type_heads
        self.item_embedding = nn.Embedding(n_items, embedding_dim)
        self.type_embedding = nn.Embedding(N_EVENT_TYPES, embedding_dim)
        self.use_event_types = use_event_types
        self.propagation = SessionGraphLayer(embedding_dim, n_steps)
        self.last_projection = nn.Linear(embedding_dim, embedding_dim, bias=False)  # W1
        self.node_projection = nn.Linear(embedding_dim, embedding_dim)  # W2 and c
        self.attention = nn.Linear(embedding_dim, 1, bias=False)  # q
        heads = N_EVENT_TYPES if per_type_heads else 1
        self.readout = nn.Linear(2 * embedding_dim, heads * embedding_dim, bias=False)  # W3
        self.dropout = nn.Dropout(dropout)
        scale = embedding_dim**-0.5  # SR-GNN's initialisation: uniform(-1/sqrt(d), 1/sqrt(d))
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -scale, scale)

    def item_table(self) -> torch.Tensor:
        """What items are scored against (and what the graph's nodes start from): the
        embeddings, unit-length under ``normalise``."""
        table = self.item_embedding.weight
        return nn.functional.normalize(table, dim=1) if self.normalise else table

    def _item_rows(self, items: torch.Tensor) -> torch.Tensor:
        """``item_table()[items]`` through the embedding lookup: with ``item_embedding.sparse``
        (sampled softmax) the gradient holds only these rows, not the whole catalogue."""
        rows = self.item_embedding(items)
        return nn.functional.normalize(rows, dim=1) if self.normalise else rows

    def encode(self, graphs: Batch) -> torch.Tensor:
        """Session vectors ``[graphs, 3, dim]`` (clicks, carts, orders: one vector three times
        without ``per_type_heads``); under ``normalise`` each has length ``scale``, so a dot
        product with ``item_table`` is scale x cosine."""
        nodes = self.item_embedding(graphs.x)
        if self.normalise:
            nodes = nn.functional.normalize(nodes, dim=1)
        if self.use_event_types:
            nodes = nodes + self.type_embedding(graphs.node_type)
        nodes = self.propagation(self.dropout(nodes), graphs.edge_index)
        n_graphs = graphs.num_graphs
        last = scatter(  # one node per graph; with baskets, the mean of the last basket's
            nodes[graphs.last_index], graphs.batch[graphs.last_index], 0, dim_size=n_graphs,
            reduce="mean",
        )  # fmt: skip
        at_position = nodes[graphs.position_index]  # one row per event of the prefix
        position_graph = graphs.batch[graphs.position_index]
        weights = self.attention(
            torch.sigmoid(
                self.last_projection(last)[position_graph] + self.node_projection(at_position)
            )
        )
        overall = scatter(
            weights * at_position, position_graph, dim=0, dim_size=n_graphs, reduce="sum"
        )
        sessions = self.readout(torch.cat([last, overall], dim=1)).view(
            n_graphs, -1, self.embedding_dim
        )
        if self.per_type_heads:
            sessions = torch.cat([sessions[:, :1], sessions[:, :1] + sessions[:, 1:]], dim=1)
        if self.normalise:
            sessions = self.scale * nn.functional.normalize(sessions, dim=2)
        return sessions.expand(-1, N_EVENT_TYPES, -1)

    def forward(self, graphs: Batch) -> torch.Tensor:
        """Scores of every item, ``[graphs, 3, n_items]``: for tests and tiny catalogues only
        (scoring and training never build this matrix over a real catalogue)."""
        return self.encode(graphs) @ self.item_table().T

    def loss(
        self,
        graphs: Batch,
        targets: torch.Tensor,
        type_weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        negatives: "PopularityNegatives | None" = None,
        new_items_only: bool = False,
    ) -> torch.Tensor:
        """Cross-entropy of the target items; ``targets`` rows are (graph, event type, item).

        A (graph, type) with several targets (every item carted later) averages them, and each
        (graph, type) with targets weighs ``type_weights[type]``. Without ``negatives``: full
        softmax (the log-partition once per (graph, type)). With them: sampled softmax over the
        batch's target items plus popularity-drawn items, every logit (the positive's included)
        minus the log of that item's sampling probability (log-Q correction), and a candidate
        equal to the row's own target masked (accidental hit). ``new_items_only``: targets
        among the graph's own items are dropped and those items leave every softmax (see the
        module). Types weighing 0 are left out; 0 (with a gradient) when no target is left.
        """
        sessions = self.encode(graphs)
        weights = torch.as_tensor(type_weights, dtype=sessions.dtype, device=targets.device)
        keep = weights[targets[:, 1]] > 0  # a type weighing 0 costs nothing
        if new_items_only:
            seen = _graph_items(graphs, self.n_items)
            keep &= ~_contains(seen, targets[:, 0] * self.n_items + targets[:, 2])
        targets = targets[keep]
        if targets.numel() == 0:
            return sessions.sum() * 0.0
        graph, event_type, item = targets.unbind(1)
        groups, group_of_target, group_size = torch.unique(
            graph * N_EVENT_TYPES + event_type, return_inverse=True, return_counts=True
        )
        weights = weights[event_type] / group_size[group_of_target].float()
        weights = weights / (weights.sum() + 1e-12)
        if negatives is None:
            table = self.item_table()  # one softmax row per (graph, type): its targets share it
            rows, columns = (
                _group_items(groups // N_EVENT_TYPES, graphs) if new_items_only else (None, None)
            )
            vectors = sessions[groups // N_EVENT_TYPES, groups % N_EVENT_TYPES]
            return blocked_softmax_loss(
                vectors, table, group_of_target, item, weights, rows, columns
            )
        vectors = sessions[graph, event_type]
        positive = (vectors * self._item_rows(item)).sum(1) - negatives.log_q[item]
        candidates = torch.cat([item, negatives.draw()])
        logits = vectors @ self._item_rows(candidates).T - negatives.log_q[candidates]
        masked = candidates[None, :] == item[:, None]
        if new_items_only:
            masked = masked | _contains(seen, graph[:, None] * self.n_items + candidates[None, :])
        logits = logits.masked_fill(masked, float("-inf"))
        log_probability = positive - torch.logsumexp(
            torch.cat([positive[:, None], logits], dim=1), dim=1
        )
        return -(weights * log_probability).sum()


def _graph_items(graphs: Batch, n_items: int) -> torch.Tensor:
    """Sorted keys ``graph * n_items + item`` of every node (a node is one item of a graph)."""
    return torch.sort(graphs.batch * n_items + graphs.x).values


def _contains(sorted_keys: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Whether each of ``keys`` (any shape) is in ``sorted_keys``."""
    if sorted_keys.numel() == 0:
        return torch.zeros_like(keys, dtype=torch.bool)
    at = torch.searchsorted(sorted_keys, keys).clamp_(max=sorted_keys.numel() - 1)
    return sorted_keys[at] == keys


def _group_items(group_graph: torch.Tensor, graphs: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, item) for every row of ``group_graph`` (sorted graph numbers, a graph on up to
    three rows) and every item of that row's graph."""
    first = torch.searchsorted(group_graph, graphs.batch)
    count = torch.searchsorted(group_graph, graphs.batch, right=True) - first
    node = torch.repeat_interleave(torch.arange(count.numel(), device=count.device), count)
    start = torch.repeat_interleave(torch.cumsum(count, 0) - count, count)
    rows = first[node] + torch.arange(node.numel(), device=node.device) - start
    return rows, graphs.x[node]


class PopularityNegatives:
    """``n_negatives`` items per batch drawn in proportion to their training events (+1, so no
    item has probability 0), and ``log_q``: the log sampling probability of every item.

    The batch's own targets are draws from about the same distribution (events are what
    targets are made of), so one log-Q serves both kinds of negatives; constants cancel.
    """

    def __init__(
        self, item_counts: np.ndarray, n_negatives: int, generator: torch.Generator, device
    ) -> None:
        weights = torch.as_tensor(np.asarray(item_counts, dtype=np.float64) + 1.0)
        probability = weights / weights.sum()
        self.cdf = torch.cumsum(probability, 0)
        self.log_q = torch.log(probability).float().to(device)
        self.n_negatives = n_negatives
        self.generator = generator
        self.device = device

    def draw(self) -> torch.Tensor:
        uniform = torch.rand(self.n_negatives, generator=self.generator, dtype=torch.float64)
        items = torch.searchsorted(self.cdf, uniform * self.cdf[-1])
        return items.clamp_(max=self.cdf.numel() - 1).to(self.device)


def build_model(config: dict[str, Any]) -> SessionGNN:
    """The model described by a checkpoint's ``config`` (untrained until a state dict is loaded)."""
    return SessionGNN(
        n_items=config["n_items"],
        embedding_dim=config["embedding_dim"],
        n_steps=config["n_steps"],
        use_event_types=config["use_event_types"],
        dropout=config["dropout"],
        normalise=bool(config.get("normalise", False)),
        scale=float(config.get("scale", 16.0)),
        per_type_heads=bool(config.get("per_type_heads", True)),  # older checkpoints had them
    )

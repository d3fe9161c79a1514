"""SR-GNN (Wu et al., 2019) in PyTorch Geometric, with one head per OTTO event type.

Gated graph layers propagate item embeddings along the session's transitions; a soft-attention
readout combines the last item's node (short-term interest) with an attention-weighted sum of
all nodes (long-term interest). Each event type (clicks, carts, orders) gets its own session
vector, scored against every item embedding, plus a learned *repeat* score for the items already
in the session (from the node's state, its strongest event type and the last item): in OTTO
most orders are items carted earlier in the session, which a dot product alone ranks poorly.
"""

from typing import Any

import torch
from torch import nn
from torch.nn import functional
from torch_geometric.data import Batch
from torch_geometric.nn import GatedGraphConv
from torch_geometric.utils import scatter

N_EVENT_TYPES = 3  # clicks, carts, orders: node input feature and prediction heads


class SessionGNN(nn.Module):
    def __init__(
        self,
        n_items: int,
        embedding_dim: int,
        n_steps: int,
        use_event_types: bool = True,
        aggregation: str = "add",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.n_items = n_items
        self.embedding_dim = embedding_dim
        self.item_embedding = nn.Embedding(n_items, embedding_dim)
        self.type_embedding = nn.Embedding(N_EVENT_TYPES, embedding_dim)
        self.use_event_types = use_event_types
        self.gated_graph = GatedGraphConv(embedding_dim, num_layers=n_steps, aggr=aggregation)
        self.last_projection = nn.Linear(embedding_dim, embedding_dim, bias=False)
        self.node_projection = nn.Linear(embedding_dim, embedding_dim)
        self.attention = nn.Linear(embedding_dim, 1, bias=False)
        self.readout = nn.Linear(2 * embedding_dim, N_EVENT_TYPES * embedding_dim, bias=False)
        # Item-agnostic on purpose (event type, recency, count, similarity to the last item):
        # item-specific inputs let it memorise the few carts and orders and overfit.
        self.repeat = nn.Sequential(
            nn.Linear(N_EVENT_TYPES + 3, embedding_dim), nn.Tanh(), nn.Linear(embedding_dim, 3)
        )
        self.dropout = nn.Dropout(dropout)
        scale = embedding_dim**-0.5
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -scale, scale)

    def encode(self, graphs: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Session vectors ``[graphs, 3, dim]`` and repeat scores of the nodes ``[nodes, 3]``."""
        nodes = self.item_embedding(graphs.x)
        types = self.type_embedding(graphs.node_type)
        if self.use_event_types:
            nodes = nodes + types
        nodes = self.gated_graph(self.dropout(nodes), graphs.edge_index)
        last = nodes[graphs.last_index]
        weights = self.attention(
            torch.sigmoid(self.last_projection(last)[graphs.batch] + self.node_projection(nodes))
        )
        overall = scatter(weights * nodes, graphs.batch, dim=0, dim_size=last.size(0), reduce="sum")
        sessions = self.readout(torch.cat([last, overall], dim=1))
        features = [
            functional.one_hot(graphs.node_type, N_EVENT_TYPES).float(),
            1.0 / (1.0 + graphs.node_recency[:, None].float()),
            torch.log1p(graphs.node_count[:, None].float()),
            (nodes * last[graphs.batch]).sum(1, keepdim=True) / self.embedding_dim**0.5,
        ]
        repeat = self.repeat(torch.cat(features, dim=1))
        sessions = sessions.view(-1, N_EVENT_TYPES, self.embedding_dim)
        # Carts and orders are rarer: their heads learn a correction of the click head.
        sessions = torch.cat([sessions[:, :1], sessions[:, :1] + sessions[:, 1:]], dim=1)
        return sessions, repeat

    def forward(self, graphs: Batch, event_type: int | None = None) -> torch.Tensor:
        """Scores of every item: ``[graphs, 3, n_items]``, or ``[graphs, n_items]`` for one type."""
        sessions, repeat = self.encode(graphs)
        types = range(N_EVENT_TYPES) if event_type is None else [event_type]
        scores = sessions[:, list(types)] @ self.item_embedding.weight.T
        index = (
            graphs.batch[:, None].expand(-1, len(types)),
            torch.arange(len(types), device=scores.device)[None, :].expand(graphs.x.size(0), -1),
            graphs.x[:, None].expand(-1, len(types)),
        )
        scores = scores.index_put(index, repeat[:, list(types)], accumulate=True)
        return scores if event_type is None else scores[:, 0]

    def loss(
        self,
        graphs: Batch,
        targets: torch.Tensor,
        n_negatives: int | None = None,
        generator: torch.Generator | None = None,
        type_weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> torch.Tensor:
        """Cross-entropy of the target items; ``targets`` rows are (graph, event type, item).

        A (graph, type) with several targets (all items carted later) averages them, and each
        (graph, type) that has targets weighs ``type_weights[type]``. Full softmax, or sampled
        softmax with ``n_negatives`` uniform negatives shared by the batch (uniform draws need
        no log-Q correction; a negative equal to the target is masked), which never builds the
        ``[batch, n_items]`` matrix that OTTO's 1.8 M items would not fit.
        """
        graph, event_type, item = targets.unbind(1)
        group = graph * N_EVENT_TYPES + event_type
        if n_negatives is None:
            log_probability = functional.log_softmax(self(graphs), dim=2)
            target_log_probability = log_probability[graph, event_type, item]
        else:
            sessions, repeat = self.encode(graphs)
            negatives = torch.randint(
                self.n_items, (n_negatives,), generator=generator, device=generator.device
            ).to(item.device)
            vectors = sessions[graph, event_type]
            positive = (vectors * self.item_embedding(item)).sum(1) + self._repeat_of(
                graphs, repeat, graph, event_type, item
            )
            negative = vectors @ self.item_embedding(negatives).T + self._repeat_of(
                graphs,
                repeat,
                graph[:, None].expand(-1, n_negatives),
                event_type[:, None].expand(-1, n_negatives),
                negatives[None, :].expand(item.size(0), -1),
            )
            negative = negative.masked_fill(negatives[None, :] == item[:, None], float("-inf"))
            logits = torch.cat([positive[:, None], negative], dim=1)
            target_log_probability = functional.log_softmax(logits, dim=1)[:, 0]
        _, group_index, group_size = torch.unique(group, return_inverse=True, return_counts=True)
        type_weight = torch.as_tensor(type_weights, device=item.device)[event_type]
        weights = type_weight / group_size[group_index].float()
        return -(weights * target_log_probability).sum() / (weights.sum() + 1e-12)

    def _repeat_of(self, graphs, repeat, graph, event_type, item) -> torch.Tensor:
        """The repeat score of (graph, type, item): the node's, or 0 when not in the session."""
        node_keys = graphs.batch * self.n_items + graphs.x  # sorted: graphs, then items
        keys = graph * self.n_items + item
        position = torch.searchsorted(node_keys, keys).clamp(max=node_keys.numel() - 1)
        found = node_keys[position] == keys
        return torch.where(
            found, repeat[position, event_type], torch.zeros_like(keys, dtype=repeat.dtype)
        )


def build_model(config: dict[str, Any]) -> SessionGNN:
    """The model described by a checkpoint's ``config`` (untrained until a state dict is loaded)."""
    return SessionGNN(
        n_items=config["n_items"],
        embedding_dim=config["embedding_dim"],
        n_steps=config["n_steps"],
        use_event_types=config["use_event_types"],
        aggregation=config["aggregation"],
        dropout=config["dropout"],
    )


def select_device(requested: str = "auto") -> torch.device:
    """``auto``: the GPU when one is present (Vertex AI), else the CPU; or exactly what is asked."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"params model_training.device is '{requested}' but torch sees no CUDA device; "
            "use 'auto' (GPU when present, else CPU) or 'cpu'"
        )
    return device

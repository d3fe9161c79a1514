"""SR-GNN (Wu et al., 2019) in PyTorch Geometric, with an optional event-type embedding.

Gated graph layers propagate item embeddings along the session's transitions; a soft-attention
readout combines the last item's node (short-term interest) with an attention-weighted sum of
all nodes (long-term interest); the session vector is scored against every item embedding.
"""

from typing import Any

import torch
from torch import nn
from torch.nn import functional
from torch_geometric.data import Batch
from torch_geometric.nn import GatedGraphConv
from torch_geometric.utils import scatter

N_EVENT_TYPES = 3  # clicks, carts, orders


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
        self.item_embedding = nn.Embedding(n_items, embedding_dim)
        self.type_embedding = (
            nn.Embedding(N_EVENT_TYPES, embedding_dim) if use_event_types else None
        )
        self.gated_graph = GatedGraphConv(embedding_dim, num_layers=n_steps, aggr=aggregation)
        self.last_projection = nn.Linear(embedding_dim, embedding_dim, bias=False)
        self.node_projection = nn.Linear(embedding_dim, embedding_dim)
        self.attention = nn.Linear(embedding_dim, 1, bias=False)
        self.readout = nn.Linear(2 * embedding_dim, embedding_dim, bias=False)
        self.dropout = nn.Dropout(dropout)
        scale = embedding_dim**-0.5
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -scale, scale)

    def session_embedding(self, graphs: Batch) -> torch.Tensor:
        """One vector per graph, ``[num_graphs, embedding_dim]``."""
        nodes = self.item_embedding(graphs.x)
        if self.type_embedding is not None:
            nodes = nodes + self.type_embedding(graphs.node_type)
        nodes = self.gated_graph(self.dropout(nodes), graphs.edge_index)
        last = nodes[graphs.last_index]
        weights = self.attention(
            torch.sigmoid(self.last_projection(last)[graphs.batch] + self.node_projection(nodes))
        )
        overall = scatter(weights * nodes, graphs.batch, dim=0, dim_size=last.size(0), reduce="sum")
        return self.readout(torch.cat([last, overall], dim=1))

    def forward(self, graphs: Batch) -> torch.Tensor:
        """Scores of every item for every graph, ``[num_graphs, n_items]``."""
        return self.session_embedding(graphs) @ self.item_embedding.weight.T

    def loss(
        self,
        graphs: Batch,
        targets: torch.Tensor,
        n_negatives: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Cross-entropy of the next item: full softmax, or sampled softmax with ``n_negatives``.

        The sampled version shares uniformly drawn negatives across the batch (uniform draws need
        no log-Q correction) and masks a negative that happens to be the target; it never builds
        the ``[batch, n_items]`` matrix, which at OTTO's 1.8 M items would not fit.
        """
        sessions = self.session_embedding(graphs)
        if n_negatives is None:
            return functional.cross_entropy(sessions @ self.item_embedding.weight.T, targets)
        negatives = torch.randint(
            self.n_items, (n_negatives,), generator=generator, device=generator.device
        ).to(sessions.device)
        positive = (sessions * self.item_embedding(targets)).sum(dim=1, keepdim=True)
        negative = sessions @ self.item_embedding(negatives).T
        negative = negative.masked_fill(negatives[None, :] == targets[:, None], float("-inf"))
        logits = torch.cat([positive, negative], dim=1)
        return functional.cross_entropy(logits, torch.zeros_like(targets))


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

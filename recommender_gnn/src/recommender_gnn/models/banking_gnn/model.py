"""A bipartite product -> customer GNN scoring each product a customer does not hold.

Why bipartite and one edge type: a customer's neighbours are only its (at most 24) products,
and the L lag flags on an edge let one message function see "held since", "added last month"
and "dropped" jointly, where L edge types would each see one lag. Why products are not updated
from customers: that aggregate would make a customer's score depend on which customers share
its batch (or need the whole month in memory); the co-holding effects that matter (a current
account raises direct debits, payroll and pension come together) reach the customer through
its own product edges.

Layer l: h_c <- h_c + ReLU(W_root h_c + sum over edges (p -> c) of MLP([h_c; h_p; e_pc])), the
message conditioned on the customer (GINE / EdgeConv style), so stacking layers lets the
customer's state decide what each held product means. Product nodes: a learnt embedding plus
the calendar month's. Score: <h_c, q_p> + b_p + b_(calendar month, p) (ind_reca_fin_ult1 peaks
in June).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch_geometric.nn import MessagePassing

N_MONTHS = 12


class ProductToCustomerConv(MessagePassing):
    """One round of product -> customer messages with edge features (see the module)."""

    def __init__(self, dim: int, edge_dim: int, dropout: float) -> None:
        super().__init__(aggr="add", flow="source_to_target")
        self.message_mlp = nn.Sequential(
            nn.Linear(2 * dim + edge_dim, dim), nn.ReLU(), nn.Linear(dim, dim)
        )
        self.root = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        products: torch.Tensor,
        customers: torch.Tensor,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
    ) -> torch.Tensor:
        """``edge_index``: [2, E], row 0 the product, row 1 the customer."""
        size = (products.size(0), customers.size(0))
        messages = self.propagate(
            edge_index, x=(products, customers), edge_attr=edge_attr, size=size
        )
        update = torch.relu(self.root(customers) + messages)
        return self.norm(customers + self.dropout(update))

    def message(self, x_i: torch.Tensor, x_j: torch.Tensor, edge_attr: torch.Tensor):
        return self.message_mlp(torch.cat([x_i, x_j, edge_attr], dim=1))


class BankingGNN(nn.Module):
    """Customer encoder, ``n_layers`` product -> customer convolutions, dot-product scores."""

    def __init__(
        self, n_features: int, n_products: int, lags: int, embedding_dim: int, n_layers: int,
        dropout: float,
    ) -> None:  # fmt: skip
        super().__init__()
        dim = embedding_dim
        self.customer_input = nn.Sequential(
            nn.Linear(n_features, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, dim)
        )
        self.product_embedding = nn.Embedding(n_products, dim)
        self.month_embedding = nn.Embedding(N_MONTHS, dim)
        self.layers = nn.ModuleList(
            ProductToCustomerConv(dim, lags, dropout) for _ in range(n_layers)
        )
        self.product_output = nn.Embedding(n_products, dim)
        self.product_bias = nn.Parameter(torch.zeros(n_products))
        self.month_bias = nn.Embedding(N_MONTHS, n_products)
        nn.init.zeros_(self.month_bias.weight)
        nn.init.normal_(self.product_embedding.weight, std=0.1)
        nn.init.normal_(self.month_embedding.weight, std=0.1)
        nn.init.normal_(self.product_output.weight, std=0.1)

    def forward(
        self,
        x: torch.Tensor,
        calendar_month: int,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
    ) -> torch.Tensor:
        """Logits [customers, products] for one target month's batch of customers."""
        month = torch.tensor(calendar_month, device=x.device)
        season = self.month_embedding(month)
        customers = self.customer_input(x) + season
        products = self.product_embedding.weight + season
        for layer in self.layers:
            customers = layer(products, customers, edge_index, edge_attr)
        logits = customers @ self.product_output.weight.T + self.product_bias
        return logits + self.month_bias(month)


def build_model(config: dict[str, Any]) -> BankingGNN:
    """The network a checkpoint's ``config`` describes (untrained until a state is loaded)."""
    return BankingGNN(
        n_features=config["n_features"],
        n_products=config["n_products"],
        lags=config["lags"],
        embedding_dim=config["embedding_dim"],
        n_layers=config["n_layers"],
        dropout=config["dropout"],
    )

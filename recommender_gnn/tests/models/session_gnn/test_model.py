"""SR-GNN's layer, readout and losses against hand computations and a dense reference."""

import itertools

import numpy as np
import pytest
import torch
from torch.nn import functional
from torch_geometric.data import Batch

from recommender_gnn.models.device import select_device
from recommender_gnn.models.session_gnn.graphs import session_graph
from recommender_gnn.models.session_gnn.model import (
    PopularityNegatives,
    SessionGNN,
    SessionGraphLayer,
)


def _set(linear, weight, bias) -> None:
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(weight, dtype=torch.float32))
        linear.bias.copy_(torch.tensor(bias, dtype=torch.float32))


def test_in_and_out_messages_of_a_three_node_graph_by_hand():
    layer = SessionGraphLayer(dim=2, n_steps=1)
    _set(layer.incoming, [[1, 1], [0, 1]], [0, 1])  # W_in h + b_in = (h0 + h1, h1 + 1)
    _set(layer.outgoing, [[2, 0], [0, -1]], [1, 0])  # W_out h + b_out = (2 h0 + 1, -h1)
    nodes = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    edges = torch.tensor([[0, 0, 2], [1, 2, 1]])  # 0->1, 0->2, 2->1
    # W_in h + b_in: node 0 (1, 1), node 1 (1, 2), node 2 (4, 3);
    # W_out h + b_out: node 0 (3, 0), node 1 (1, -1), node 2 (5, -2).
    expected = torch.tensor(
        [
            [0.0, 0.0, 3.0, -1.5],  # no in-edge; out to 1 and 2: mean((1,-1), (5,-2))
            [2.5, 2.0, 0.0, 0.0],  # in from 0 and 2: mean((1,1), (4,3)); no out-edge
            [1.0, 1.0, 1.0, -1.0],  # in from 0; out to 1
        ]
    )
    assert torch.allclose(layer.messages(nodes, edges), expected)
    # One step is a GRU cell fed the 2d-wide [in ; out], two steps reuse the same weights.
    once = layer.gru(expected, nodes)
    assert torch.allclose(layer(nodes, edges), once)
    layer.n_steps = 2
    assert torch.allclose(layer(nodes, edges), layer.gru(layer.messages(once, edges), once))


def _reference_session_vector(model: SessionGNN, sequence: list[int]) -> torch.Tensor:
    """SR-GNN as its authors' code computes it, for one session (no event types, no dropout):
    dense degree-normalised A_in / A_out, the GRU gates written out, attention over positions."""
    nodes = sorted(set(sequence))
    alias = [nodes.index(item) for item in sequence]
    n = len(nodes)
    adjacency = torch.zeros(n, n)
    for source, target in itertools.pairwise(alias):
        adjacency[source, target] = 1.0
    a_in = (adjacency / adjacency.sum(0).clamp(min=1)).T  # row i: i's in-edges, normalised
    a_out = adjacency / adjacency.sum(1, keepdim=True).clamp(min=1)
    layer = model.propagation
    hidden = model.item_embedding.weight[nodes]
    for _ in range(layer.n_steps):
        inputs = torch.cat([a_in @ layer.incoming(hidden), a_out @ layer.outgoing(hidden)], 1)
        gi = inputs @ layer.gru.weight_ih.T + layer.gru.bias_ih
        gh = hidden @ layer.gru.weight_hh.T + layer.gru.bias_hh
        i_r, i_i, i_n = gi.chunk(3, 1)
        h_r, h_i, h_n = gh.chunk(3, 1)
        reset, update = torch.sigmoid(i_r + h_r), torch.sigmoid(i_i + h_i)
        new = torch.tanh(i_n + reset * h_n)
        hidden = new + update * (hidden - new)
    positions = hidden[alias]  # one row per event: repeats count
    last = positions[-1]
    alpha = model.attention(
        torch.sigmoid(model.last_projection(last) + model.node_projection(positions))
    )
    overall = (alpha * positions).sum(0)
    vectors = model.readout(torch.cat([last, overall])).view(-1, model.embedding_dim)
    if len(vectors) == 1:  # SR-GNN's one session vector, for every event type
        return vectors.expand(3, -1)
    return torch.cat([vectors[:1], vectors[:1] + vectors[1:]])


@pytest.mark.parametrize("n_steps,per_type_heads", [(1, False), (2, False), (1, True)])
def test_session_vectors_equal_a_dense_reference_of_sr_gnn(n_steps, per_type_heads):
    torch.manual_seed(0)
    model = SessionGNN(
        n_items=12,
        embedding_dim=6,
        n_steps=n_steps,
        use_event_types=False,
        per_type_heads=per_type_heads,
    )
    assert model.readout.weight.shape == (6 * (3 if per_type_heads else 1), 12)
    sessions = [[5, 3, 5, 7, 7], [1, 2], [9], [4, 4, 4, 8]]  # repeats, self-loops, one event
    graphs = Batch.from_data_list([session_graph(s) for s in sessions])
    with torch.no_grad():
        encoded = model.encode(graphs)
        for index, sequence in enumerate(sessions):
            assert torch.allclose(
                encoded[index], _reference_session_vector(model, sequence), atol=1e-6
            )


def _graphs() -> tuple[Batch, torch.Tensor]:
    batch = Batch.from_data_list(
        [session_graph([5, 3, 5, 7], [0, 0, 1, 0]), session_graph([1, 2]), session_graph([9])]
    )
    # (graph, event type, item): next clicks, a later cart, two orders of one graph
    targets = [[0, 0, 8], [1, 0, 3], [2, 0, 10], [0, 1, 5], [1, 2, 2], [1, 2, 11]]
    return batch, torch.tensor(targets)


def test_full_softmax_loss_is_the_group_averaged_cross_entropy():
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=1).eval()
    graphs, targets = _graphs()
    weights = (1.0, 2.0, 3.0)
    log_probability = functional.log_softmax(model(graphs), dim=2)
    terms = [-log_probability[g, t, i] for g, t, i in targets.tolist()]
    # Groups (graph, type): (0,0) (1,0) (2,0) (0,1) one target each, (1,2) two: each weighs half.
    target_weights = [1.0, 1.0, 1.0, 2.0, 1.5, 1.5]
    expected = sum(w * x for w, x in zip(target_weights, terms, strict=True)) / 8.0
    assert torch.allclose(model.loss(graphs, targets, weights), expected)


class FixedNegatives(PopularityNegatives):
    """Popularity log-Q, but known draws."""

    def __init__(self, counts, draws) -> None:
        super().__init__(counts, len(draws), torch.Generator(), "cpu")
        self.draws = torch.tensor(draws)

    def draw(self) -> torch.Tensor:
        return self.draws


def test_sampled_loss_is_log_q_corrected_softmax_over_batch_and_drawn_items():
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=1).eval()
    graphs, targets = _graphs()
    counts = np.arange(12) * 3  # popularity: item i drawn with probability (3i + 1) / sum
    negatives = FixedNegatives(counts, [8, 0, 4])  # 8 is also the first row's target
    q = (counts + 1.0) / (counts + 1.0).sum()
    with torch.no_grad():
        vectors = model.encode(graphs)
        table = model.item_embedding.weight
        candidates = [*targets[:, 2].tolist(), 8, 0, 4]
        expected = []
        for g, t, item in targets.tolist():
            positive = float(vectors[g, t] @ table[item]) - np.log(q[item])
            logits = [positive] + [
                float(vectors[g, t] @ table[c]) - np.log(q[c]) for c in candidates if c != item
            ]  # a candidate equal to the target is an accidental hit: left out
            expected.append(positive - np.log(np.exp(logits).sum()))
    target_weights = np.array([1.0, 1.0, 1.0, 1.0, 0.5, 0.5])
    expected_loss = -(target_weights * np.array(expected)).sum() / target_weights.sum()
    loss = model.loss(graphs, targets, (1.0, 1.0, 1.0), negatives)
    assert loss.item() == pytest.approx(expected_loss, rel=1e-5)


def test_popularity_negatives_follow_the_counts():
    counts = np.array([0, 9, 99, 0])
    negatives = PopularityNegatives(counts, 20_000, torch.Generator().manual_seed(0), "cpu")
    drawn = np.bincount(negatives.draw().numpy(), minlength=4) / 20_000
    assert np.allclose(drawn, (counts + 1) / 112, atol=0.01)
    assert torch.allclose(negatives.log_q.exp(), torch.tensor((counts + 1) / 112).float())


@pytest.mark.parametrize("negatives", [False, True])
def test_one_training_step_lowers_the_loss(negatives):
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=1)
    graphs, targets = _graphs()
    sampler = FixedNegatives(np.ones(12), [0, 4, 6, 7]) if negatives else None
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    before = model.loss(graphs, targets, negatives=sampler)
    optimizer.zero_grad()
    before.backward()
    optimizer.step()
    assert model.loss(graphs, targets, negatives=sampler).item() < before.item()


def test_device_selection_uses_the_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device("auto") == torch.device("cpu")
    assert select_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="torch sees no CUDA device"):
        select_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto") == torch.device("cuda")


def _without_own_items(scores: torch.Tensor, graphs: Batch) -> torch.Tensor:
    """``scores`` ``[graphs, 3, items]`` with every graph's own items at -inf."""
    scores = scores.clone()
    scores[graphs.batch, :, graphs.x] = float("-inf")
    return scores


def test_new_items_only_drops_seen_targets_and_leaves_seen_items_out_of_the_softmax():
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=1, per_type_heads=True).eval()
    graphs, targets = _graphs()  # graph items: {3, 5, 7}, {1, 2}, {9}
    weights = (1.0, 2.0, 3.0)
    log_probability = functional.log_softmax(_without_own_items(model(graphs), graphs), dim=2)
    # (0, 1, 5) and (1, 2, 2) are items of their own graph: dropped; (1, 2, 11) is now alone.
    kept = [[0, 0, 8], [1, 0, 3], [2, 0, 10], [1, 2, 11]]
    terms = [-log_probability[g, t, i] for g, t, i in kept]
    expected = sum(w * x for w, x in zip([1.0, 1.0, 1.0, 3.0], terms, strict=True)) / 6.0
    loss = model.loss(graphs, targets, weights, new_items_only=True)
    assert torch.allclose(loss, expected)
    assert not torch.allclose(model.loss(graphs, targets, weights), expected)
    seen_only = torch.tensor([[0, 1, 5], [1, 2, 2]])
    assert model.loss(graphs, seen_only, weights, new_items_only=True).item() == 0.0


def test_new_items_only_masks_seen_items_in_the_sampled_softmax_too():
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=1).eval()
    graphs, targets = _graphs()
    counts = np.arange(12) * 3
    negatives = FixedNegatives(counts, [8, 0, 3, 9])  # 3 is graph 0's, 9 graph 2's
    q = (counts + 1.0) / (counts + 1.0).sum()
    own = {0: {3, 5, 7}, 1: {1, 2}, 2: {9}}
    kept = [[0, 0, 8], [1, 0, 3], [2, 0, 10], [1, 2, 11]]
    with torch.no_grad():
        vectors, table = model.encode(graphs), model.item_embedding.weight
        candidates = [row[2] for row in kept] + [8, 0, 3, 9]
        expected = []
        for g, t, item in kept:
            positive = float(vectors[g, t] @ table[item]) - np.log(q[item])
            logits = [positive] + [
                float(vectors[g, t] @ table[c]) - np.log(q[c])
                for c in candidates
                if c != item and c not in own[g]
            ]
            expected.append(positive - np.log(np.exp(logits).sum()))
    weights = np.array([1.0, 1.0, 1.0, 1.0])
    expected_loss = -(weights * np.array(expected)).sum() / weights.sum()
    loss = model.loss(graphs, targets, (1.0, 1.0, 1.0), negatives, new_items_only=True)
    assert loss.item() == pytest.approx(expected_loss, rel=1e-5)


def test_a_type_weighing_zero_is_left_out_of_the_loss():
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=1).eval()
    graphs, targets = _graphs()
    clicks_only = model.loss(graphs, targets, (1.0, 0.0, 0.0))
    assert torch.allclose(clicks_only, model.loss(graphs, targets[targets[:, 1] == 0]))
    assert not torch.allclose(clicks_only, model.loss(graphs, targets))


def test_normalised_scores_are_scale_times_cosine_whatever_the_item_norms():
    torch.manual_seed(0)
    model = SessionGNN(n_items=12, embedding_dim=8, n_steps=1, normalise=True, scale=5.0).eval()
    graphs, _ = _graphs()
    with torch.no_grad():
        vectors, scores = model.encode(graphs), model(graphs)
        assert torch.allclose(vectors.norm(dim=2), torch.tensor(5.0))
        cosine = functional.cosine_similarity(
            vectors[:, :, None, :], model.item_embedding.weight[None, None], dim=3
        )
        assert torch.allclose(scores, 5.0 * cosine, atol=1e-5)
        # NISER normalises the items the graph starts from too: their norms change nothing.
        model.item_embedding.weight.mul_(torch.rand(12, 1) * 3 + 0.5)
        assert torch.allclose(model(graphs), scores, atol=1e-5)

"""The blocked full-softmax loss: the value and gradients of autograd's log-softmax."""

import pytest
import torch

from recommender_gnn.models.session_gnn.softmax import blocked_softmax_loss


def _problem(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    n_rows, n_items, dim = 23, 17, 5
    vectors = torch.randn(n_rows, dim, generator=generator, dtype=torch.float64)
    table = torch.randn(n_items, dim, generator=generator, dtype=torch.float64)
    # Every row has a target, some rows several (unsorted); some rows lose a few items.
    row = torch.cat([torch.arange(n_rows), torch.randint(0, n_rows, (15,), generator=generator)])
    item = torch.randint(0, n_items, (row.numel(),), generator=generator)
    weight = torch.rand(row.numel(), generator=generator, dtype=torch.float64)
    mask_row = torch.randint(0, n_rows, (30,), generator=generator)
    mask_item = torch.randint(0, n_items, (30,), generator=generator)
    targets = set(zip(row.tolist(), item.tolist(), strict=True))
    pairs = zip(mask_row.tolist(), mask_item.tolist(), strict=True)
    free = torch.tensor([pair not in targets for pair in pairs])
    return vectors, table, row, item, weight, mask_row[free], mask_item[free]


def _reference(vectors, table, row, item, weight, mask_row, mask_item):
    logits = (vectors @ table.T).index_put(
        (mask_row, mask_item), torch.tensor(float("-inf"), dtype=vectors.dtype)
    )
    return -(weight * torch.log_softmax(logits, dim=1)[row, item]).sum()


@pytest.mark.parametrize("block_elements", [1, 17 * 8, 17 * 10, 10**6])  # 8, 8, 10, all rows
def test_blocked_loss_and_gradients_equal_autograd_log_softmax(block_elements):
    vectors, table, row, item, weight, mask_row, mask_item = _problem()
    inputs = [vectors.clone().requires_grad_(), table.clone().requires_grad_()]
    loss = blocked_softmax_loss(*inputs, row, item, weight, mask_row, mask_item, block_elements)
    (3.0 * loss).backward()  # the incoming gradient scales the kept ones
    reference = [vectors.clone().requires_grad_(), table.clone().requires_grad_()]
    expected = _reference(*reference, row, item, weight, mask_row, mask_item)
    (3.0 * expected).backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    for mine, theirs in zip(inputs, reference, strict=True):
        assert torch.allclose(mine.grad, theirs.grad, atol=1e-12)


def test_without_a_mask_or_gradients_the_loss_is_the_plain_cross_entropy():
    vectors, table, row, item, weight, _, _ = _problem(1)
    empty = torch.empty(0, dtype=torch.long)
    with torch.no_grad():
        loss = blocked_softmax_loss(vectors, table, row, item, weight, block_elements=40)
    assert loss.item() == pytest.approx(
        _reference(vectors, table, row, item, weight, empty, empty).item(), rel=1e-12
    )

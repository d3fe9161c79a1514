"""Full-softmax cross-entropy over the catalogue, a block of rows at a time.

Autograd through ``log_softmax(vectors @ table.T)`` keeps the whole ``[rows, items]`` logits,
their log-softmax, a zero-filled gradient and its copy: passes over arrays far larger than the
CPU's cache that cost more than the matrix products (profiled at 2,880 items: the softmax was
about 80% of a training step, mostly those passes). Here each block of rows is scored and its
loss and gradient (softmax minus the targets' one-hot, weighted) are taken while the block is
in cache; only the gradients of ``vectors`` and ``table`` are kept, and the backward pass just
scales them. Same value and gradients as the autograd version (a test checks both).
"""

import torch


class BlockedSoftmaxLoss(torch.autograd.Function):
    """``-sum_t weight_t * log softmax(vectors @ table.T)[row_t, item_t]``, the items
    ``(mask_row, mask_item)`` left out of their rows' softmax. ``row`` and ``mask_row`` must be
    sorted; no target may be masked."""

    @staticmethod
    def forward(ctx, vectors, table, row, item, weight, mask_row, mask_item, block_rows):
        need_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        grad_vectors = torch.zeros_like(vectors) if need_grad else None
        grad_table = torch.zeros_like(table) if need_grad else None
        row_weight = torch.zeros(vectors.shape[0], dtype=vectors.dtype, device=vectors.device)
        row_weight.index_add_(0, row, weight)
        bounds = torch.arange(0, vectors.shape[0] + block_rows, block_rows, device=row.device)
        target_at = torch.searchsorted(row, bounds).tolist()
        mask_at = torch.searchsorted(mask_row, bounds).tolist()
        total = vectors.new_zeros(())
        for block, start in enumerate(bounds[:-1].tolist()):
            stop = start + block_rows
            t_lo, t_hi, m_lo, m_hi = (*target_at[block : block + 2], *mask_at[block : block + 2])
            logits = vectors[start:stop] @ table.T
            logits[mask_row[m_lo:m_hi] - start, mask_item[m_lo:m_hi]] = float("-inf")
            log_partition = torch.logsumexp(logits, dim=1, keepdim=True)
            rows, items, weights = row[t_lo:t_hi] - start, item[t_lo:t_hi], weight[t_lo:t_hi]
            total -= (weights * (logits[rows, items] - log_partition[rows, 0])).sum()
            if need_grad:  # d loss / d logits = row weight x softmax - weight x one-hot
                gradient = logits.sub_(log_partition).exp_().mul_(row_weight[start:stop, None])
                gradient.index_put_((rows, items), -weights, accumulate=True)
                grad_vectors[start:stop] = gradient @ table
                grad_table.addmm_(gradient.T, vectors[start:stop])
        ctx.save_for_backward(grad_vectors, grad_table)
        return total

    @staticmethod
    def backward(ctx, grad_output):
        grad_vectors, grad_table = ctx.saved_tensors
        return grad_output * grad_vectors, grad_output * grad_table, *([None] * 6)


def blocked_softmax_loss(
    vectors: torch.Tensor,
    table: torch.Tensor,
    row: torch.Tensor,
    item: torch.Tensor,
    weight: torch.Tensor,
    mask_row: torch.Tensor | None = None,
    mask_item: torch.Tensor | None = None,
    block_elements: int | None = None,
) -> torch.Tensor:
    """See ``BlockedSoftmaxLoss``; rows need not be sorted here. A block holds about
    ``block_elements`` logits; default: 1 MB on the CPU (a core's L2 cache), 256 MB on a GPU
    (where a Python loop over small blocks would cost more than the memory passes)."""
    if block_elements is None:
        block_elements = 1 << 18 if vectors.device.type == "cpu" else 1 << 26
    order = torch.argsort(row, stable=True)
    if mask_row is None:
        mask_row = mask_item = torch.empty(0, dtype=torch.long, device=row.device)
    mask_order = torch.argsort(mask_row, stable=True)
    block_rows = max(8, block_elements // max(table.shape[0], 1))
    return BlockedSoftmaxLoss.apply(
        vectors,
        table,
        row[order],
        item[order],
        weight[order],
        mask_row[mask_order],
        mask_item[mask_order],
        block_rows,
    )

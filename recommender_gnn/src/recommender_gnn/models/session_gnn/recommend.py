"""Candidates from the SR-GNN: per session and event type the top ``top_k`` items that are not in
the session, in the shared candidates format.

Memory is bounded by one block, never by the catalogue: sessions go in batches of
``batch_size``, items in blocks of ``block_items``; each block's scores (``[3, batch, block]``)
get the session's own items masked and are merged into a running top-k. Ties rank the lower
item id first, in a block and across blocks alike, so the result equals a full-matrix top-k
with that rule (a test checks it). ``candidate_items`` (null: all) restricts the scored items to
the most frequent in training, for CPU budgets at OTTO's 1.86 M items.
"""

from typing import Any

import numpy as np
import pandas as pd
import torch

from recommender_gnn.model_selection.policy import empty_predictions

from ..device import select_device
from .evaluation import EVENT_TYPES
from .graphs import SessionEvents, prefix_events
from .model import build_model

CANDIDATE_COLUMNS = ["session", "event_type", "item", "rank", "score"]


def block_top_k(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top ``k`` of the last axis, ties at the boundary resolved to the lowest column."""
    n = scores.size(-1)
    if n <= k:
        return torch.sort(scores, dim=-1, descending=True, stable=True)
    values, index = torch.topk(scores, k + 1, dim=-1)
    kth = values[..., k - 1 : k]
    # Ambiguous only where an item outside the top k scores as much as the k-th one.
    ambiguous = values[..., k] == kth[..., 0]
    values, index = values[..., :k], index[..., :k]
    if ambiguous.any():
        rows, kth_rows = scores[ambiguous], kth[ambiguous]
        greater, equal = rows > kth_rows, rows == kth_rows
        room = k - greater.sum(-1, keepdim=True)
        keep = greater | (equal & (equal.cumsum(-1) <= room))
        index[ambiguous] = keep.nonzero()[:, 1].view(-1, k)
        values[ambiguous] = rows.gather(-1, index[ambiguous])
    return values, index


def merge_top_k(values, items, new_values, new_items, k: int):
    """The best ``k`` of two lists by (score descending, item ascending)."""
    values, items = torch.cat([values, new_values], -1), torch.cat([items, new_items], -1)
    by_item = torch.argsort(items, dim=-1, stable=True)
    values, items = values.gather(-1, by_item), items.gather(-1, by_item)
    by_score = torch.argsort(values, dim=-1, descending=True, stable=True)[..., :k]
    return values.gather(-1, by_score), items.gather(-1, by_score)


def blocked_top_k(vectors, tables, seen_row, seen_item, ids, k: int, block_items: int):
    """Running top-``k`` of ``vectors[t] @ tables[t][ids].T`` over blocks of ``ids`` (sorted).

    ``vectors``: ``[types, batch, dim]``; (``seen_row``, ``seen_item``), sorted by item, are
    masked. Returns (scores, items), ``[types, batch, k]``, -inf where fewer items remain.
    """
    shape = (*vectors.shape[:2], 0)
    best = (
        torch.empty(shape, device=vectors.device),
        torch.empty(shape, dtype=torch.long, device=vectors.device),
    )
    for first in range(0, ids.numel(), block_items):
        block = ids[first : first + block_items]
        scores = torch.bmm(vectors, torch.stack([table[block] for table in tables]).mT)
        lo = torch.searchsorted(seen_item, block[0])
        hi = torch.searchsorted(seen_item, block[-1], right=True)
        item, row = seen_item[lo:hi], seen_row[lo:hi]
        column = torch.searchsorted(block, item).clamp_(max=block.numel() - 1)
        hit = block[column] == item
        scores[:, row[hit], column[hit]] = float("-inf")
        values, index = block_top_k(scores, k)
        best = merge_top_k(*best, values, block[index], k)
    return best


@torch.no_grad()
def top_new_items(
    heads: list,
    events: SessionEvents,
    max_length: int,
    top_k: int,
    batch_size: int,
    block_items: int,
    device,
    item_ids: np.ndarray | None = None,
) -> pd.DataFrame:
    """Candidates of every session in ``events``; ``heads[t]`` is the network of event type t.

    Each session's own items (all its events, not only the last ``max_length``) are masked.
    ``item_ids`` (sorted) restricts the scored items; default: the whole catalogue.
    """
    ids = torch.arange(heads[0].n_items) if item_ids is None else torch.as_tensor(item_ids)
    ids = ids.long().to(device)
    networks = {id(head): head.eval() for head in heads}
    table_of = {key: network.item_table() for key, network in networks.items()}
    # (network, its vector) of each type: a single-readout network ranks once for all types
    lists = [(id(head), t if head.per_type_heads else 0) for t, head in enumerate(heads)]
    distinct = list(dict.fromkeys(lists))
    list_of_type = [distinct.index(key) for key in lists]
    tables = [table_of[key] for key, _ in distinct]
    parts: list[tuple[np.ndarray, ...]] = []
    for start in range(0, events.sessions.size, batch_size):
        offsets = events.offsets[start : start + batch_size]
        ends = offsets + events.lengths[start : start + batch_size]
        graphs = events.graphs(offsets, ends, max_length).to(device)
        encoded = {key: network.encode(graphs) for key, network in networks.items()}
        vectors = torch.stack([encoded[key][:, t] for key, t in distinct])
        row, position = prefix_events(offsets, ends, np.iinfo(np.int64).max // 4)
        keys = np.unique(events.items[position].astype(np.int64) * offsets.size + row)
        seen = torch.as_tensor(keys).to(device)
        values, items = blocked_top_k(
            vectors, tables, seen % offsets.size, seen // offsets.size, ids, top_k, block_items
        )
        values, items = values[list_of_type], items[list_of_type]
        values, items = values.transpose(0, 1).cpu().numpy(), items.transpose(0, 1).cpu().numpy()
        # -inf (fewer items than k left) only ends a list, so a kept entry's rank is its place.
        # Each batch in the contract's dtypes: 15 bytes a row, for OTTO's 141 M rows.
        keep = np.isfinite(values)  # [batch, types, k]
        sessions = events.sessions[start : start + batch_size, None, None].astype(np.int32)
        type_codes = np.arange(len(heads), dtype=np.int8)[None, :, None]
        ranks = np.arange(1, keep.shape[2] + 1, dtype=np.int16)[None, None, :]
        parts.append(
            (
                np.broadcast_to(sessions, keep.shape)[keep],
                np.broadcast_to(type_codes, keep.shape)[keep],
                items[keep].astype(np.int32),
                np.broadcast_to(ranks, keep.shape)[keep],
                values[keep].astype(np.float32),
            )
        )
    if not parts:
        return empty_predictions()
    columns = dict(zip(CANDIDATE_COLUMNS, zip(*parts, strict=True), strict=True))
    parts.clear()  # each column's pieces go as it is concatenated
    frame = {name: np.concatenate(columns.pop(name)) for name in CANDIDATE_COLUMNS}
    frame["event_type"] = pd.Categorical.from_codes(frame["event_type"], categories=EVENT_TYPES)
    return pd.DataFrame(frame, copy=False)


def popular_item_ids(item_counts: np.ndarray | None, n: int | None) -> np.ndarray | None:
    """The ``n`` items with the most training events, sorted by id (None: every item)."""
    if n is None or item_counts is None or n >= len(item_counts):
        return None
    return np.sort(np.argsort(-np.asarray(item_counts), kind="stable")[:n])


class BestHeads:
    """Each event type's network: the state that was best for it on validation (or refit)."""

    def __init__(self, models: dict[str, Any]) -> None:
        self.models = models
        self.n_items = next(iter(models.values())).n_items

    @property
    def heads(self) -> list:
        return [self.models[name] for name in EVENT_TYPES]


def load_model(checkpoint: dict[str, Any], device="cpu") -> BestHeads:
    """The trained networks of a checkpoint (one state per head), in eval mode on ``device``."""
    models, by_state = {}, {}
    for name in EVENT_TYPES:
        state = checkpoint["state_dicts"][name]
        if id(state) not in by_state:
            model = build_model(checkpoint["config"])
            model.load_state_dict(state)
            by_state[id(state)] = model.to(device).eval()
        models[name] = by_state[id(state)]
    return BestHeads(models)


def recommend_gnn(
    sessions: pd.DataFrame, checkpoint: dict[str, Any], params: dict[str, Any]
) -> pd.DataFrame:
    """Candidates (the contract's format and dtypes) of every session in ``sessions``.

    ``params``: ``top_k``, ``batch_size`` (sessions at once), ``block_items``,
    ``candidate_items`` (null: every item), ``device``, ``num_threads``, ``dataset`` (for
    error messages).
    """
    if params.get("num_threads"):
        torch.set_num_threads(int(params["num_threads"]))
    device = select_device(params.get("device", "auto"))
    dataset = params.get("dataset", "sessions")
    model = load_model(checkpoint, device)
    events = SessionEvents(sessions, dataset, checkpoint["config"].get("baskets", False))
    if events.items.size and events.items.max() >= model.n_items:
        raise ValueError(
            f"{dataset} has item {events.items.max()} but the model knows {model.n_items} items: "
            "were the sessions mapped with the item_map the model was trained on?"
        )
    item_ids = popular_item_ids(checkpoint.get("item_counts"), params.get("candidate_items"))
    return top_new_items(
        model.heads,
        events,
        checkpoint["config"]["max_session_length"],
        device=device,
        item_ids=item_ids,
        **scoring_params(params),
    )


def scoring_params(params: dict[str, Any]) -> dict[str, Any]:
    """The knobs ``top_new_items`` reads, with their defaults."""
    return {
        "top_k": int(params.get("top_k", 20)),
        "batch_size": int(params.get("batch_size", 512)),
        "block_items": int(params.get("block_items", 16384)),
    }

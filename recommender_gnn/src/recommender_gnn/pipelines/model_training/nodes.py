"""Train the session GNN on every (prefix -> next item) pair of the training sessions.

Validation (prefix -> next click, G1's valid split) picks the epoch: early stopping keeps the
best state, which is what the checkpoint holds. Runs are deterministic for a seed on the CPU.
"""

import copy
import logging
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .graphs import SessionEvents
from .model import build_model, select_device

logger = logging.getLogger(__name__)


class EarlyStopping:
    """Stop after ``patience`` epochs without an improvement larger than ``min_delta``."""

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.epochs_without_improvement = 0

    def step(self, epoch: int, metric: float) -> bool:
        """Record one epoch's validation metric (higher is better); True means stop now."""
        if self.best is None or metric > self.best + self.min_delta:
            self.best, self.best_epoch = metric, epoch
            self.epochs_without_improvement = 0
            return False
        self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience

    @property
    def improved(self) -> bool:
        return self.epochs_without_improvement == 0


def next_click_targets(labels: pd.DataFrame, dataset: str = "valid_labels") -> pd.Series:
    """The next clicked item per session (index: session) from the long labels table."""
    missing = [c for c in ("session", "event_type", "item") if c not in labels.columns]
    if missing:
        raise ValueError(
            f"{dataset} lacks column(s) {missing}; expected one row per label item with "
            "session, event_type ('clicks'|'carts'|'orders'), item; "
            f"it has {sorted(labels.columns)}"
        )
    clicks = labels.loc[labels["event_type"] == "clicks", ["session", "item"]]
    return clicks.drop_duplicates("session").set_index("session")["item"].astype("int64")


def _set_threads(params: dict[str, Any]) -> None:
    if params.get("num_threads"):
        torch.set_num_threads(int(params["num_threads"]))


def model_config(n_items: int, params: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to rebuild the network and its inputs from a checkpoint."""
    keys = ("embedding_dim", "n_steps", "use_event_types", "aggregation", "dropout")
    return {
        "n_items": int(n_items),
        "max_session_length": int(params["max_session_length"]),
        **{key: params[key] for key in keys},
    }


@torch.no_grad()
def top_items(
    model, events: SessionEvents, max_length: int, k: int, batch_size: int, device
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item indices and scores for the whole of every session in ``events``."""
    model.eval()
    k = min(k, model.n_items)
    items, scores = [], []
    for start in range(0, events.sessions.size, batch_size):
        offsets = events.offsets[start : start + batch_size]
        ends = offsets + events.lengths[start : start + batch_size]
        graphs = events.graphs(offsets, ends, max_length).to(device)
        best_scores, best_items = torch.topk(model(graphs), k, dim=1)
        items.append(best_items.cpu().numpy())
        scores.append(best_scores.cpu().numpy())
    if not items:
        return np.empty((0, k), dtype=np.int64), np.empty((0, k), dtype=np.float32)
    return np.concatenate(items), np.concatenate(scores)


def _validation_recall(model, valid: SessionEvents, targets: np.ndarray, params, device) -> float:
    predicted, _ = top_items(
        model, valid, params["max_session_length"], 20, params["eval_batch_size"], device
    )
    return float((predicted == targets[:, None]).any(axis=1).mean()) if targets.size else 0.0


def _training_pairs(train: SessionEvents) -> tuple[np.ndarray, np.ndarray]:
    """(session offset, prefix end) of every prefix that has a next event."""
    n_pairs = np.maximum(train.lengths - 1, 0)
    offsets = np.repeat(train.offsets, n_pairs)
    ends = offsets + 1 + np.arange(offsets.size) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    return offsets, ends


def train_session_gnn(
    train_sessions: pd.DataFrame,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    item_map: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit SR-GNN with early stopping; returns the checkpoint and the per-epoch history."""
    _set_threads(params)
    torch.manual_seed(params["seed"])
    rng = np.random.default_rng(params["seed"])
    sampler = torch.Generator().manual_seed(params["seed"])
    device = select_device(params["device"])
    n_items = len(item_map)
    config = model_config(n_items, params)
    max_length = config["max_session_length"]

    train = SessionEvents(train_sessions, "train_sessions")
    pair_offsets, pair_ends = _training_pairs(train)
    if pair_ends.size == 0:
        raise ValueError("train_sessions has no session with two or more events: nothing to learn")
    targets = train.items[pair_ends]
    if targets.max() >= n_items:
        raise ValueError(
            f"train_sessions has item {targets.max()} but item_map lists only {n_items} items"
        )
    valid_targets = next_click_targets(valid_labels)
    valid = SessionEvents(
        valid_sessions[valid_sessions["session"].isin(valid_targets.index)], "valid_sessions"
    )
    valid_targets = valid_targets.reindex(valid.sessions).to_numpy()

    n_negatives = (
        int(params["sampled_softmax"]["n_negatives"])
        if n_items > params["sampled_softmax"]["above_n_items"]
        else None
    )
    model = build_model(config).to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"]
    )
    stopping = EarlyStopping(
        params["early_stopping"]["patience"], params["early_stopping"]["min_delta"]
    )
    batch_size, history, best_state = params["batch_size"], [], None
    logger.info(
        "Training SR-GNN: %d pairs from %d sessions, %d items, %s softmax, device %s",
        pair_ends.size, train.sessions.size, n_items,
        f"sampled ({n_negatives} negatives)" if n_negatives else "full", device,
    )  # fmt: skip
    for epoch in range(1, params["max_epochs"] + 1):
        model.train()
        started, order = time.perf_counter(), rng.permutation(pair_ends.size)
        if params.get("max_pairs_per_epoch"):
            order = order[: params["max_pairs_per_epoch"]]
        total = 0.0
        batches = range(0, order.size, batch_size)
        for start in tqdm(batches, desc=f"epoch {epoch}", disable=not params["progress_bar"]):
            chosen = np.sort(order[start : start + batch_size])
            graphs = train.graphs(pair_offsets[chosen], pair_ends[chosen], max_length).to(device)
            loss = model.loss(
                graphs, torch.from_numpy(targets[chosen]).to(device), n_negatives, sampler
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * chosen.size
        seconds = time.perf_counter() - started
        recall = _validation_recall(model, valid, valid_targets, params, device)
        stop = stopping.step(epoch, recall)
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / order.size,
                "valid_recall_at_20_clicks": recall,
                "seconds": seconds,
                "pairs_per_second": order.size / seconds,
            }
        )
        logger.info(
            "epoch %d: loss %.4f, valid click recall@20 %.4f", epoch, total / order.size, recall
        )
        if stopping.improved:
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
        if stop:
            logger.info("Early stopping after epoch %d (best epoch %d)", epoch, stopping.best_epoch)
            break
    checkpoint = {
        "config": config,
        "state_dict": best_state,
        "best_epoch": stopping.best_epoch,
        "best_valid_recall_at_20_clicks": stopping.best,
        "n_training_pairs": int(pair_ends.size),
    }
    return checkpoint, pd.DataFrame(history)


def load_model(checkpoint: dict[str, Any], device="cpu"):
    """The trained network of a checkpoint, in eval mode on ``device``."""
    model = build_model(checkpoint["config"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval()

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

from .evaluation import EVENT_TYPES, otto_scores, predictions_frame
from .graphs import SessionEvents, prefix_events
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


def _set_threads(params: dict[str, Any]) -> None:
    if params.get("num_threads"):
        torch.set_num_threads(int(params["num_threads"]))


def model_config(n_items: int, params: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to rebuild the network, its inputs and its ranking from a checkpoint."""
    keys = ("embedding_dim", "n_steps", "use_event_types", "aggregation", "dropout")
    return {
        "n_items": int(n_items),
        "max_session_length": int(params["max_session_length"]),
        "session_items_first": list(params["session_items_first"]),
        **{key: params[key] for key in keys},
    }


def rank_items(
    model, checkpoint: dict[str, Any], events: SessionEvents, k: int, batch_size: int, device
) -> tuple[np.ndarray, np.ndarray]:
    """``top_items`` with the input length and ranking rule the checkpoint was trained with."""
    config = checkpoint["config"]
    return top_items(
        model,
        events,
        config["max_session_length"],
        k,
        batch_size,
        device,
        tuple(config["session_items_first"]),
    )


SESSION_FIRST_OFFSET = 1e4  # above any model score: the session's items rank first


@torch.no_grad()
def top_items(
    model,
    events: SessionEvents,
    max_length: int,
    k: int,
    batch_size: int,
    device,
    session_items_first: tuple[str, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` items and scores, ``[session, event type, k]``, for every whole session.

    For the event types in ``session_items_first`` the session's own items come first (in the
    order of that type's head, repeat score included), then new items in the order of the
    clicks head: the next clicks are where a session's later carts and orders come from.
    """
    model.eval()
    k = min(k, model.n_items)
    items, scores = [], []
    first = [EVENT_TYPES.index(name) for name in session_items_first]
    for start in range(0, events.sessions.size, batch_size):
        offsets = events.offsets[start : start + batch_size]
        ends = offsets + events.lengths[start : start + batch_size]
        graphs = events.graphs(offsets, ends, max_length).to(device)
        batch_scores = model(graphs)
        if first:
            in_session = torch.zeros_like(batch_scores[:, 0], dtype=torch.bool)
            in_session[graphs.batch, graphs.x] = True
            for t in first:
                batch_scores[:, t] = torch.where(
                    in_session, SESSION_FIRST_OFFSET + batch_scores[:, t], batch_scores[:, 0]
                )
        best_scores, best_items = torch.topk(batch_scores, k)
        items.append(best_items.cpu().numpy())
        scores.append(best_scores.cpu().numpy())
    if not items:
        return np.empty((0, 3, k), dtype=np.int64), np.empty((0, 3, k), dtype=np.float32)
    return np.concatenate(items), np.concatenate(scores)


def _validation_scores(model, valid: SessionEvents, labels: pd.DataFrame, params, device) -> dict:
    items, scores = top_items(
        model,
        valid,
        params["max_session_length"],
        20,
        params["eval_batch_size"],
        device,
        tuple(params["session_items_first"]),
    )
    return otto_scores(predictions_frame(valid.sessions, items, scores), labels)


def _training_pairs(train: SessionEvents) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(session start, prefix end, session end) of every prefix followed by an event."""
    n_pairs = np.maximum(train.lengths - 1, 0)
    offsets = np.repeat(train.offsets, n_pairs)
    ends = offsets + 1 + np.arange(offsets.size) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    return offsets, ends, np.repeat(train.offsets + train.lengths, n_pairs)


def future_targets(events: SessionEvents, ends: np.ndarray, session_ends: np.ndarray) -> np.ndarray:
    """Rows (prefix, event type, item) of what follows each prefix, as OTTO labels it.

    clicks: the next click; carts and orders: every item carted or ordered later.
    """
    prefix, positions = prefix_events(ends, session_ends, np.iinfo(np.int64).max // 4)
    types, items = events.types[positions], events.items[positions]
    clicks = types == 0
    _, first = np.unique(prefix[clicks], return_index=True)
    rows = [np.stack([prefix[clicks][first], types[clicks][first], items[clicks][first]], 1)]
    later = ~clicks
    rows.append(np.unique(np.stack([prefix[later], types[later], items[later]], 1), axis=0))
    return np.concatenate(rows)


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
    pair_offsets, pair_ends, session_ends = _training_pairs(train)
    if pair_ends.size == 0:
        raise ValueError("train_sessions has no session with two or more events: nothing to learn")
    if train.items.max() >= n_items:
        raise ValueError(
            f"train_sessions has item {train.items.max()} but item_map lists only {n_items} items"
        )
    _require_label_columns(valid_labels)
    valid = SessionEvents(valid_sessions, "valid_sessions")

    n_negatives = (
        int(params["sampled_softmax"]["n_negatives"])
        if n_items > params["sampled_softmax"]["above_n_items"]
        else None
    )
    model = build_model(config).to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"]
    )
    # One stopper per head: each event type keeps the state that was best for it, and training
    # stops once no head has improved for `patience` epochs (clicks keep learning longer than
    # the rarer carts and orders, which overfit sooner).
    stoppers = {
        name: EarlyStopping(
            params["early_stopping"]["patience"], params["early_stopping"]["min_delta"]
        )
        for name in EVENT_TYPES
    }
    batch_size, history, best_states = params["batch_size"], [], {}
    type_weights = tuple(float(params["type_weights"][name]) for name in EVENT_TYPES)
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
            targets = future_targets(train, pair_ends[chosen], session_ends[chosen])
            loss = model.loss(
                graphs, torch.from_numpy(targets).to(device), n_negatives, sampler, type_weights
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * chosen.size
        seconds = time.perf_counter() - started
        scores = _validation_scores(model, valid, valid_labels, params, device)
        stop = all([stoppers[name].step(epoch, scores[name]) for name in EVENT_TYPES])
        history.append(
            {
                "epoch": epoch,
                "train_loss": total / order.size,
                **{f"valid_{name}": value for name, value in scores.items()},
                "seconds": seconds,
                "pairs_per_second": order.size / seconds,
            }
        )
        logger.info(
            "epoch %d: loss %.4f, validation %s", epoch, total / order.size,
            ", ".join(f"{name} {value:.4f}" for name, value in scores.items()),
        )  # fmt: skip
        improved = [name for name in EVENT_TYPES if stoppers[name].improved]
        if improved:
            state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
            best_states.update(dict.fromkeys(improved, state))
        if stop:
            logger.info("Early stopping after epoch %d: no head improved lately", epoch)
            break
    checkpoint = {
        "config": config,
        "state_dicts": best_states,
        "best_epochs": {name: stopper.best_epoch for name, stopper in stoppers.items()},
        "best_valid_recall": {name: stopper.best for name, stopper in stoppers.items()},
        "n_training_pairs": int(pair_ends.size),
    }
    return checkpoint, pd.DataFrame(history)


def _require_label_columns(labels: pd.DataFrame, dataset: str = "valid_labels") -> None:
    missing = [c for c in ("session", "event_type", "item") if c not in labels.columns]
    if missing:
        raise ValueError(
            f"{dataset} lacks column(s) {missing}; expected one row per label item with "
            "session, event_type ('clicks'|'carts'|'orders'), item; "
            f"it has {sorted(labels.columns)}"
        )


class BestHeads:
    """Scores each event type with the network state that was best for it on validation."""

    def __init__(self, models: dict[str, Any]) -> None:
        self.models = models
        self.n_items = next(iter(models.values())).n_items

    def eval(self) -> "BestHeads":
        for model in self.models.values():
            model.eval()
        return self

    def __call__(self, graphs) -> torch.Tensor:
        scores = [self.models[name](graphs, event_type=t) for t, name in enumerate(EVENT_TYPES)]
        return torch.stack(scores, dim=1)


def load_model(checkpoint: dict[str, Any], device="cpu") -> BestHeads:
    """The trained networks of a checkpoint (one state per head), in eval mode on ``device``."""
    models, by_state = {}, {}
    for name in EVENT_TYPES:
        state = checkpoint["state_dicts"][name]
        if id(state) not in by_state:
            model = build_model(checkpoint["config"])
            model.load_state_dict(state)
            by_state[id(state)] = model.to(device)
        models[name] = by_state[id(state)]
    return BestHeads(models).eval()

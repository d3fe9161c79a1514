"""Fit SR-GNN on every (prefix -> what follows) pair of the training sessions.

With a validation split each epoch's candidates (``recommend``) are scored, and each head
(clicks, carts, orders) keeps the state of its best epoch; without one (the refit on train +
validation) ``params.epochs`` says at which epoch each head's state is kept. Deterministic for
a seed on the CPU.
"""

import copy
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..device import select_device
from .evaluation import EVENT_TYPES, otto_scores
from .graphs import SessionEvents
from .model import PopularityNegatives, build_model
from .recommend import BestHeads, load_model, popular_item_ids, scoring_params, top_new_items
from .stream import count_pairs, future_targets, training_batches

logger = logging.getLogger(__name__)
TYPE_WEIGHTS = {"clicks": 0.1, "carts": 0.3, "orders": 0.6}  # OTTO's score

__all__ = ["fit_gnn", "load_model", "rank_items", "train_session_gnn"]  # load_model: registry


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


def model_config(n_items: int, params: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to rebuild the network and its inputs from a checkpoint."""
    keys = ("embedding_dim", "n_steps", "use_event_types", "dropout")
    return {
        "n_items": int(n_items),
        "max_session_length": int(params["max_session_length"]),
        "baskets": bool(params.get("baskets", False)),  # equal ts in a session: one basket
        # beyond SR-GNN (model.py): per-type readouts, NISER's normalised scores
        "per_type_heads": bool(params.get("per_type_heads", False)),
        "normalise": bool(params.get("normalise", False)),
        "scale": float(params.get("scale", 16.0)),
        **{key: params[key] for key in keys},
    }


def _training_events(train_sessions, n_items: int, params) -> tuple[SessionEvents, dict, int]:
    """The training sessions, the target window (H&M: next week) and the pairs per epoch."""
    days = params.get("target_window_days")
    train = SessionEvents(
        train_sessions, "train_sessions", bool(params.get("baskets")), keep_ts=bool(days)
    )
    if params.get("max_train_sessions"):
        train = train.most_recent(int(params["max_train_sessions"]))
    window = {"window_seconds": int(days * 86_400), "anchor": int(train.ts.max())} if days else {}
    block = params.get("block_sessions", 8192)
    n_pairs = count_pairs(train, block, **window) if days else train.n_pairs
    if n_pairs == 0:
        raise ValueError("train_sessions has no session with two or more events: nothing to learn")
    if train.items.max() >= n_items:
        raise ValueError(
            f"train_sessions has item {train.items.max()} but item_map lists only {n_items} items"
        )
    return train, window, n_pairs


def _head_epochs(params: dict[str, Any]) -> dict[str, int]:
    epochs = params.get("epochs")
    if not isinstance(epochs, dict) or set(epochs) != set(EVENT_TYPES):
        raise ValueError(
            "params model_training.epochs must map clicks, carts and orders to an epoch "
            f"(>= 1) when fit_gnn gets no validation split; it is {epochs!r}"
        )
    if min(int(value) for value in epochs.values()) < 1:
        raise ValueError(f"params model_training.epochs must be >= 1 per head; it is {epochs}")
    return {name: int(epochs[name]) for name in EVENT_TYPES}


def _optimizers(model, params: dict[str, Any], sparse_items: bool) -> list:
    """Adam as SR-GNN (L2 ``weight_decay``). ``sparse_items`` (sampled softmax, a large
    catalogue): the item table gets sparse gradients and SparseAdam, which updates only the
    rows a batch touched: dense Adam rewrote all 1.86 M x 64 OTTO embeddings and their moments
    every step (486 pairs/s on a CPU). SparseAdam has no L2: the item table goes without it."""
    rate, decay = params["learning_rate"], params["weight_decay"]
    if not sparse_items:
        return [torch.optim.Adam(model.parameters(), lr=rate, weight_decay=decay)]
    model.item_embedding.sparse = True
    table = model.item_embedding.weight
    rest = [parameter for parameter in model.parameters() if parameter is not table]
    return [
        torch.optim.Adam(rest, lr=rate, weight_decay=decay),
        torch.optim.SparseAdam([table], lr=rate),
    ]


def fit_gnn(
    train_sessions: pd.DataFrame,
    item_map: pd.DataFrame,
    params: dict[str, Any],
    valid_sessions: pd.DataFrame | None = None,
    valid_labels: pd.DataFrame | None = None,
    score_fn: Callable[..., dict[str, float]] | None = None,
    on_epoch: Callable[[int, float], bool] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit SR-GNN; returns the checkpoint and the per-epoch history.

    ``score_fn(candidates, valid_sessions, valid_labels)`` -> {clicks, carts, orders, score}
    (default: OTTO's recall of the candidates). ``time_budget_seconds`` stops after the batch
    that crosses it; ``max_train_sessions`` keeps the sessions that ended last.
    ``on_epoch(epoch, OTTO score of each type's best epoch so far)`` after each validated
    epoch; True stops training (the tuner's pruner).
    """
    if params.get("num_threads"):
        torch.set_num_threads(int(params["num_threads"]))
    torch.manual_seed(params["seed"])
    rng = np.random.default_rng(params["seed"])
    generator = torch.Generator().manual_seed(params["seed"])
    device = select_device(params["device"])
    started = time.perf_counter()
    deadline = started + (params.get("time_budget_seconds") or np.inf)
    n_items = len(item_map)
    config = model_config(n_items, params)
    train, window, n_training_pairs = _training_events(train_sessions, n_items, params)
    item_counts = np.bincount(train.items, minlength=n_items).astype(np.int32)

    validate = valid_sessions is not None
    if validate:
        _require_label_columns(valid_labels)
        valid = SessionEvents(valid_sessions, "valid_sessions", config["baskets"])
        score_fn = score_fn or (lambda candidates, _, labels: otto_scores(candidates, labels))
        stoppers = {
            name: EarlyStopping(
                params["early_stopping"]["patience"], params["early_stopping"]["min_delta"]
            )
            for name in EVENT_TYPES
        }
        max_epochs = int(params["max_epochs"])
    else:
        head_epochs = _head_epochs(params)
        max_epochs = max(head_epochs.values())

    sampling = params["sampled_softmax"]
    sampled = n_items > sampling["above_n_items"]
    negatives = (
        PopularityNegatives(item_counts, sampling["n_negatives"], generator, device)
        if sampled
        else None
    )
    scoring = {
        **scoring_params({"top_k": 20, **params, "batch_size": params["eval_batch_size"]}),
        "device": device,
        "item_ids": popular_item_ids(item_counts, params.get("candidate_items")),
    }
    model = build_model(config).to(device)
    optimizers = _optimizers(model, params, sparse_items=sampled)
    optimizer = optimizers[0]
    # SR-GNN's schedule: the learning rate times ``lr_decay`` after every ``lr_decay_epochs``
    decays = [
        torch.optim.lr_scheduler.StepLR(
            each, int(params.get("lr_decay_epochs") or 10**9), float(params.get("lr_decay", 1.0))
        )
        for each in optimizers
    ]
    type_weights = tuple(float(params["type_weights"][name]) for name in EVENT_TYPES)
    new_items_only = bool(params.get("new_item_targets", False))
    logger.info(
        "Training SR-GNN: %d pairs from %d sessions, %d items, %s softmax, device %s",
        n_training_pairs, train.sessions.size, n_items,
        f"sampled (in-batch + {negatives.n_negatives} popularity negatives, log-Q)"
        if sampled else "full", device,
    )  # fmt: skip
    history, best_states, best_policy, out_of_time, pruned_after = [], {}, {}, False, None
    for epoch in range(1, max_epochs + 1):
        model.train()
        epoch_started, total, n_pairs = time.perf_counter(), 0.0, 0
        batches = training_batches(
            train,
            params["batch_size"],
            params.get("block_sessions", 8192),
            rng,
            params.get("max_pairs_per_epoch"),
            **window,
        )
        for offsets, ends, session_ends in tqdm(
            batches, desc=f"epoch {epoch}", disable=not params["progress_bar"]
        ):
            graphs = train.graphs(offsets, ends, config["max_session_length"]).to(device)
            targets = torch.from_numpy(future_targets(train, ends, session_ends)).to(device)
            loss = model.loss(graphs, targets, type_weights, negatives, new_items_only)
            for each in optimizers:
                each.zero_grad()
            loss.backward()
            for each in optimizers:
                each.step()
            total += float(loss.detach()) * ends.size
            n_pairs += ends.size
            if time.perf_counter() > deadline:
                out_of_time = True
                break
        seconds = time.perf_counter() - epoch_started
        row = {"epoch": epoch, "train_loss": total / max(n_pairs, 1), "pairs": n_pairs}
        row["learning_rate"] = optimizer.param_groups[0]["lr"]
        for each in decays:
            each.step()
        state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
        if validate:
            validation_started = time.perf_counter()
            candidates = top_new_items(
                [model] * len(EVENT_TYPES), valid, config["max_session_length"], **scoring
            )
            scores = score_fn(candidates, valid_sessions, valid_labels)
            stop = all([stoppers[name].step(epoch, scores[name]) for name in EVENT_TYPES])
            improved = [name for name in EVENT_TYPES if stoppers[name].improved]
            best_states.update(dict.fromkeys(improved, state))
            # A policy-aware score_fn also says which seen-item policy each type used.
            best_policy.update(
                {name: scores["policy"][name] for name in improved} if "policy" in scores else {}
            )
            row.update(_history_columns(scores))
            row["validation_seconds"] = time.perf_counter() - validation_started
            if on_epoch is not None and on_epoch(epoch, _best_score(stoppers)):
                pruned_after = epoch
        else:
            best_states.update({n: state for n in EVENT_TYPES if head_epochs[n] == epoch})
            stop = False
        row.update(seconds=seconds, pairs_per_second=n_pairs / seconds)
        history.append(row)
        logger.info(
            "epoch %d: loss %.4f, %d pairs/s%s", epoch, row["train_loss"],
            row["pairs_per_second"], "".join(
                f", {k} {v:.4f}" for k, v in row.items() if k.startswith("valid_")
            ),
        )  # fmt: skip
        out_of_time = out_of_time or time.perf_counter() > deadline
        if out_of_time:
            logger.info("Time budget reached in epoch %d", epoch)
        if pruned_after:
            logger.info("Pruned by the tuner after epoch %d", epoch)
        elif stop:
            logger.info("Early stopping after epoch %d: no head improved lately", epoch)
        if stop or out_of_time or pruned_after:
            break
    if validate:
        best_epochs = {name: stopper.best_epoch for name, stopper in stoppers.items()}
        best_recall = {name: float(stopper.best) for name, stopper in stoppers.items()}
        best_score = _best_score(stoppers)
    else:  # heads whose epoch the time budget cut off keep the last state
        best_states = {name: best_states.get(name, state) for name in EVENT_TYPES}
        best_epochs = {name: min(head_epochs[name], epoch) for name in EVENT_TYPES}
        best_recall, best_score = None, None
    checkpoint = {
        "config": config,
        "state_dicts": best_states,
        "best_epochs": best_epochs,
        "best_valid_recall": best_recall,
        "best_valid_score": best_score,
        "best_valid_policy": best_policy,
        "pruned_after_epoch": pruned_after,
        "n_training_pairs": n_training_pairs,
        "training_seconds": time.perf_counter() - started,
        "item_counts": item_counts,
    }
    return checkpoint, pd.DataFrame(history)


def _best_score(stoppers: dict[str, EarlyStopping]) -> float:
    """OTTO's weighted score of each type's best validation recall so far."""
    return float(sum(TYPE_WEIGHTS[name] * stoppers[name].best for name in EVENT_TYPES))


def train_session_gnn(
    train_sessions: pd.DataFrame,
    valid_sessions: pd.DataFrame,
    valid_labels: pd.DataFrame,
    item_map: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Kedro node: ``fit_gnn`` with early stopping on the validation split."""
    return fit_gnn(train_sessions, item_map, params, valid_sessions, valid_labels)


def _history_columns(scores: dict[str, Any]) -> dict[str, float]:
    """``valid_<key>`` per score; a per-type mapping (the policy) gives ``valid_<key>_<type>``."""
    row = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            row.update({f"valid_{key}_{name}": float(v) for name, v in value.items()})
        else:
            row[f"valid_{key}"] = float(value)
    return row


def _require_label_columns(labels: pd.DataFrame, dataset: str = "valid_labels") -> None:
    missing = [c for c in ("session", "event_type", "item") if c not in labels.columns]
    if missing:
        raise ValueError(
            f"{dataset} lacks column(s) {missing}; expected one row per label item with "
            "session, event_type ('clicks'|'carts'|'orders'), item; "
            f"it has {sorted(labels.columns)}"
        )


def rank_items(
    model: BestHeads, checkpoint: dict[str, Any], events: SessionEvents, k: int, batch_size, device
) -> tuple[np.ndarray, np.ndarray]:
    """Candidates as ``[session, event type, k]`` arrays (item -1 / score -inf where a session
    has fewer than k new items): the registry's pyfunc reads this shape."""
    candidates = top_new_items(
        model.heads, events, checkpoint["config"]["max_session_length"], k, batch_size,
        16384, device,
    )  # fmt: skip
    shape = (events.sessions.size, len(EVENT_TYPES), k)
    items, scores = np.full(shape, -1, np.int64), np.full(shape, -np.inf, np.float32)
    row = np.searchsorted(events.sessions, candidates["session"].to_numpy())
    index = (row, candidates["event_type"].cat.codes.to_numpy(), candidates["rank"].to_numpy() - 1)
    items[index], scores[index] = candidates["item"], candidates["score"]
    return items, scores

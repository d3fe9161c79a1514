"""Fit and score the banking GNN (``model.py``) on the typed Santander train table.

Training examples: each (customer, target month m) with the customer present in m-1 and m;
the loss is a per-product binary cross-entropy over the products not held in m-1, target 1
where the product was added in m. Customers who add nothing stay in as all-negative rows: the
model then estimates each addition's probability, and ranking by it is what the oracle does
(MAP@7 counts every customer). Mini-batches hold customers of one target month, in a random
order of batches and rows each epoch; a per-customer tensor never holds more than one batch
([batch x 24] scores, [batch x embedding_dim] states). The product and calendar-month biases
start at the training months' addition log-odds (``_initial_biases``).

With ``valid`` each epoch is scored (MAP@7 on the validation month) and the best epoch's state
is kept, stopping after ``patience`` epochs without improvement; without it (the refit)
training runs ``max_epochs`` epochs: set it to the validation run's ``best_epoch``.
Deterministic on the CPU for a seed (``num_threads`` threads, deterministic algorithms).

Params (defaults in ``DEFAULT_PARAMS``): seed 42, device "auto" (GPU when present),
num_threads 1, embedding_dim 32, n_layers 2 (0: no message passing, the ablation),
dropout 0.1, learning_rate 0.003,
weight_decay 1e-5, batch_size 512, eval_batch_size 4096, max_epochs 30, patience 4, lags 3
(months of holdings on the edges), top_categories 10 (one-hot values per category), k 7,
n_recent_months 4 and same_month_last_year true (``training_months``).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import torch

from recommender_gnn.pipelines.banking_data.contract import PRODUCTS, added_products
from recommender_gnn.pipelines.banking_data.metrics import map_at_k

from ..device import select_device
from .graph import N_PRODUCTS, MonthGraph, build_month_graph, fit_encoder, n_features
from .model import build_model

logger = logging.getLogger(__name__)

DEFAULT_PARAMS: dict[str, Any] = {
    "seed": 42,
    "device": "auto",
    "num_threads": 1,
    "embedding_dim": 32,
    "n_layers": 2,
    "dropout": 0.1,
    "learning_rate": 0.003,
    "weight_decay": 1e-5,
    "batch_size": 512,
    "eval_batch_size": 4096,
    "max_epochs": 30,
    "patience": 4,
    "lags": 3,
    "top_categories": 10,
    "k": 7,
    "n_recent_months": 4,
    "same_month_last_year": True,
}


def training_months(month: int, params: dict[str, Any] | None = None) -> list[int]:
    """Target months for predicting ``month``: the ``n_recent_months`` before it and, with
    ``same_month_last_year``, ``month - 12`` (the season: taxes peak in June). Month 0 has no
    previous month, so it is never a target."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    recent = range(month - int(params["n_recent_months"]), month)
    months = {*recent, month - 12} if params["same_month_last_year"] else set(recent)
    return sorted(m for m in months if m >= 1)


@contextmanager
def _deterministic(num_threads: int) -> Iterator[None]:
    """Fixed thread count and deterministic kernels, the caller's settings restored after."""
    threads, was = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(num_threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(was)


def _tensors(graph: MonthGraph, rows: np.ndarray, device) -> tuple[torch.Tensor, ...]:
    """(x, edge_index [product; customer], edge_attr, held mask) of a batch of rows."""
    position, product, attr = graph.edges(rows)
    edge_index = torch.from_numpy(np.stack([product, position]).astype(np.int64))
    return (
        torch.from_numpy(graph.x[rows]).to(device),
        edge_index.to(device),
        torch.from_numpy(attr).to(device),
        torch.from_numpy(graph.held_last[rows].astype(bool)).to(device),
    )


def _logits(model, graph: MonthGraph, rows: np.ndarray, device) -> tuple[torch.Tensor, ...]:
    x, edge_index, edge_attr, held = _tensors(graph, rows, device)
    return model(x, graph.month % 12, edge_index, edge_attr), held


def _scored_batches(model, graph: MonthGraph, batch_size: int, device):
    """(rows, scores [batch, products] with -inf on held products), batch by batch."""
    model.eval()
    with torch.no_grad():
        for start in range(0, len(graph), batch_size):
            rows = np.arange(start, min(start + batch_size, len(graph)))
            logits, held = _logits(model, graph, rows, device)
            yield rows, logits.masked_fill(held, float("-inf")).float().cpu().numpy()


def _top_k_frame(model, graph: MonthGraph, k: int, batch_size: int, device) -> pd.DataFrame:
    """(customer, product, rank) of each customer's k best products, never a held one."""
    parts = []
    for rows, scores in _scored_batches(model, graph, batch_size, device):
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # ties: PRODUCTS order
        row, rank = np.nonzero(np.isfinite(np.take_along_axis(scores, order, axis=1)))
        parts.append(
            pd.DataFrame(
                {
                    "customer": graph.customers[rows[row]],
                    "product": np.asarray(PRODUCTS, dtype=object)[order[row, rank]],
                    "rank": rank + 1,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else _empty_ranking()


def _empty_ranking() -> pd.DataFrame:
    return pd.DataFrame({"customer": np.array([], np.int32), "product": [], "rank": []})


def _validation(frame: pd.DataFrame, month: int, encoder, lags: int):
    """The validation graph (months < ``month`` + its attributes), its listed customers (those
    present in ``month``) and their additions in ``month``."""
    graph = build_month_graph(frame, month, encoder, lags)
    both = frame[frame["month"].isin([month - 1, month])]
    truth = added_products(both)
    truth = truth[truth["month"] == month]
    listed = frame.loc[frame["month"] == month, "customer"].to_numpy()
    return graph, listed, truth


def fit_banking_gnn(
    train: pd.DataFrame,
    target_months: list[int],
    params: dict[str, Any],
    valid: tuple[pd.DataFrame, int] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit on the (customer, m) examples of ``target_months`` of the typed train table.

    ``valid``: (a typed table holding the validation month and the months before it with
    their products, usually ``train`` itself, the validation month index, usually 16); its
    products in that month are the labels and never an input. Every target month must be
    before it. Returns (checkpoint: config, state_dict, best_epoch, best_valid_map,
    training_seconds; history: epoch, loss, valid_map_all, valid_map_adders, seconds).
    """
    params = {**DEFAULT_PARAMS, **params}
    months = sorted({int(m) for m in target_months})
    if not months or months[0] < 1:
        raise ValueError(f"banking GNN target_months must be month indices >= 1; got {months}")
    if valid is not None and months[-1] >= int(valid[1]):
        raise ValueError(
            f"banking GNN target_months {months} must all be before the validation month "
            f"{valid[1]}: training on its additions would leak the labels it is scored on"
        )
    started = time.perf_counter()
    with _deterministic(int(params["num_threads"])):
        torch.manual_seed(int(params["seed"]))
        rng = np.random.default_rng(int(params["seed"]))
        device = select_device(params["device"], "banking_models.gnn.device")
        lags = int(params["lags"])
        encoder = fit_encoder(train[train["month"].isin(months)], int(params["top_categories"]))
        graphs = [build_month_graph(train, m, encoder, lags, labelled=True) for m in months]
        graphs = [graph for graph in graphs if len(graph)]
        if not graphs:
            raise ValueError(f"banking GNN: no customer present in m-1 and m for m in {months}")
        config = {
            "n_features": n_features(encoder, lags),
            "n_products": N_PRODUCTS,
            "lags": lags,
            "encoder": encoder,
            "target_months": months,
            "device": params["device"],
            "num_threads": int(params["num_threads"]),
            "eval_batch_size": int(params["eval_batch_size"]),
            **{key: params[key] for key in ("embedding_dim", "n_layers", "dropout")},
        }
        model = build_model(config)
        _initial_biases(model, graphs)
        model.to(device)
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=float(params["learning_rate"]),
            weight_decay=float(params["weight_decay"]),
        )
        checking = _validation(*valid, encoder, lags) if valid is not None else None
        k, batch_size = int(params["k"]), int(params["batch_size"])
        logger.info(
            "Training the banking GNN: %d examples in target months %s, device %s",
            sum(len(g) for g in graphs), months, device,
        )  # fmt: skip
        history, best_state, best_epoch, best_map, waited = [], None, 0, None, 0
        for epoch in range(1, int(params["max_epochs"]) + 1):
            epoch_started = time.perf_counter()
            loss = _train_epoch(model, optimizer, graphs, batch_size, rng, device)
            row = {"epoch": epoch, "loss": loss, "valid_map_all": np.nan,
                   "valid_map_adders": np.nan}  # fmt: skip
            if checking is not None:
                graph, listed, truth = checking
                ranking = _top_k_frame(model, graph, k, config["eval_batch_size"], device)
                scores = map_at_k(ranking, truth, listed, k)
                row.update(valid_map_all=scores["map_all"], valid_map_adders=scores["map_adders"])
                if best_map is None or scores["map_all"] > best_map:
                    best_map, best_epoch, waited = scores["map_all"], epoch, 0
                    best_state = _state(model)
                else:
                    waited += 1
            else:
                best_epoch, best_state = epoch, None
            row["seconds"] = time.perf_counter() - epoch_started
            history.append(row)
            logger.info("epoch %d: loss %.5f, valid MAP@%d %.5f", epoch, loss, k,
                        row["valid_map_all"])  # fmt: skip
            if checking is not None and waited >= int(params["patience"]):
                logger.info("Early stopping after epoch %d (best %d)", epoch, best_epoch)
                break
        checkpoint = {
            "config": config,
            "state_dict": best_state if best_state is not None else _state(model),
            "best_epoch": best_epoch,
            "best_valid_map": best_map,
            "training_seconds": time.perf_counter() - started,
        }
    return checkpoint, pd.DataFrame(history)


def _initial_biases(model, graphs: list[MonthGraph]) -> None:
    """Start the product bias at each product's addition log-odds over the training examples
    and each calendar month's bias at its deviation from it (+0.5 smoothing): a month's bias
    moves only in that month's batches (June's once a year), too few Adam steps to travel
    from 0 to the seasonal logit of ind_reca_fin_ult1 in June."""
    added = {g.month % 12: np.zeros(N_PRODUCTS) for g in graphs}
    candidates = {g.month % 12: np.zeros(N_PRODUCTS) for g in graphs}
    for graph in graphs:
        added[graph.month % 12] += graph.targets.sum(axis=0)
        candidates[graph.month % 12] += (graph.held_last == 0).sum(axis=0)

    def log_odds(hits: np.ndarray, trials: np.ndarray) -> np.ndarray:
        return np.log((hits + 0.5) / (trials - hits + 0.5))

    overall = log_odds(sum(added.values()), sum(candidates.values()))
    with torch.no_grad():
        model.product_bias.copy_(torch.as_tensor(overall, dtype=torch.float32))
        for month in added:
            shift = log_odds(added[month], candidates[month]) - overall
            model.month_bias.weight[month] = torch.as_tensor(shift, dtype=torch.float32)


def _state(model) -> dict[str, torch.Tensor]:
    return copy.deepcopy({key: value.detach().cpu() for key, value in model.state_dict().items()})


def _train_epoch(model, optimizer, graphs, batch_size: int, rng, device) -> float:
    """One pass over every example; the mean BCE over the not-held (customer, product) pairs."""
    model.train()
    batches = []
    for index, graph in enumerate(graphs):
        order = rng.permutation(len(graph))
        batches += [(index, order[s : s + batch_size]) for s in range(0, len(graph), batch_size)]
    total, count = 0.0, 0
    for position in rng.permutation(len(batches)):
        index, rows = batches[position]
        graph = graphs[index]
        logits, held = _logits(model, graph, rows, device)
        targets = torch.from_numpy(graph.targets[rows].astype(np.float32)).to(device)
        candidates = ~held
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits[candidates], targets[candidates]
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        n = int(candidates.sum())
        total, count = total + float(loss.detach()) * n, count + n
    return total / max(count, 1)


def score_banking_gnn(
    checkpoint: dict[str, Any],
    history: pd.DataFrame,
    month: int,
    attributes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """(customer int32, product str, score float32) for every customer present in
    ``month - 1`` of ``history`` (the typed train table) and every product it does not hold
    then. Products are read from months < ``month`` only; attributes from the month-``month``
    rows of ``attributes`` (the typed test table, for month 17) or of ``history`` when None.
    """
    config = checkpoint["config"]
    with _deterministic(int(config.get("num_threads", 1))):
        device = select_device(config.get("device", "auto"), "banking_models.gnn.device")
        model = build_model(config)
        model.load_state_dict(checkpoint["state_dict"])
        model.to(device)
        graph = build_month_graph(history, month, config["encoder"], config["lags"], attributes)
        parts = []
        for rows, scores in _scored_batches(model, graph, config["eval_batch_size"], device):
            row, product = np.nonzero(np.isfinite(scores))
            parts.append(
                pd.DataFrame(
                    {
                        "customer": graph.customers[rows[row]].astype(np.int32),
                        "product": np.asarray(PRODUCTS, dtype=object)[product],
                        "score": scores[row, product].astype(np.float32),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(
            {"customer": np.array([], np.int32), "product": [], "score": np.array([], "f4")}
        )
    return pd.concat(parts, ignore_index=True)


def top_k(scores: pd.DataFrame, k: int = 7) -> pd.DataFrame:
    """(customer, product, rank): each customer's k highest scores, rank 1 first, ties in
    PRODUCTS order; the shape ``metrics.map_at_k`` reads."""
    product_order = pd.Categorical(scores["product"], categories=PRODUCTS).codes
    order = np.lexsort((product_order, -scores["score"].to_numpy(), scores["customer"].to_numpy()))
    ranked = scores.iloc[order][["customer", "product"]].reset_index(drop=True)
    ranked["rank"] = ranked.groupby("customer").cumcount() + 1
    return ranked[ranked["rank"] <= k].reset_index(drop=True)

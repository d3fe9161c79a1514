"""Kedro nodes of the banking GNN (models/banking_gnn) and of the blend, under the same
protocol as LightGBM: Optuna's trials (the shared budget) and the epochs are chosen on the
validation month by models trained on target months before it; the test month is predicted by
the model refit on target months up to the validation month, and only reported.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from recommender_gnn.models.banking_gnn import (
    fit_banking_gnn,
    score_banking_gnn,
    top_k,
    training_months,
)

from ..banking_data.contract import TEST_MONTH, VALIDATION_MONTH, added_products
from ..banking_data.metrics import map_at_k
from .evaluation import with_fallback
from .tuning import tune_on_map

logger = logging.getLogger(__name__)


def _gnn_params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key != "search_space"}


def tune_banking_gnn(
    train: pd.DataFrame, banking: dict[str, Any], tuning: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """(chosen parameters with ``max_epochs`` = the chosen trial's best epoch, one row per
    trial, the chosen trial's validation ranking)."""
    params, k = banking["gnn"], int(banking["k"])
    months = training_months(VALIDATION_MONTH, params)

    def evaluate(trial_params: dict[str, Any], report) -> tuple:
        checkpoint, _ = fit_banking_gnn(
            train, months, {**_gnn_params(trial_params), "k": k}, valid=(train, VALIDATION_MONTH)
        )
        ranking = top_k(score_banking_gnn(checkpoint, train, VALIDATION_MONTH), k)
        return checkpoint["best_valid_map"], checkpoint["best_epoch"], ranking

    chosen, table, epochs, ranking = tune_on_map(
        "banking_gnn", evaluate, params, tuning, "best_epoch"
    )
    chosen = {**chosen, "max_epochs": epochs}
    logger.info("banking GNN: validation MAP@%d %.5f after %d epochs", k,
                table.loc[table["chosen"], "map_all"].iloc[0], epochs)  # fmt: skip
    return chosen, table, ranking


def refit_banking_gnn(
    train: pd.DataFrame, chosen: dict[str, Any], banking: dict[str, Any]
) -> dict[str, Any]:
    """The chosen configuration on the target months up to the validation month, for the
    chosen number of epochs (no early stopping: nothing later is left to check on)."""
    params = {**_gnn_params(chosen), "k": int(banking["k"])}
    checkpoint, _ = fit_banking_gnn(train, training_months(TEST_MONTH, params), params)
    return checkpoint


def predict_banking_gnn_test(
    checkpoint: dict[str, Any], train: pd.DataFrame, test: pd.DataFrame, banking: dict[str, Any]
) -> pd.DataFrame:
    """The refit GNN's top k for every test customer (popularity for those absent in May)."""
    k = int(banking["k"])
    ranked = top_k(score_banking_gnn(checkpoint, train, TEST_MONTH, attributes=test), k)
    return with_fallback(ranked, train, TEST_MONTH, test["customer"].to_numpy(), k)


def fuse_rankings(
    rankings: dict[str, pd.DataFrame], weights: dict[str, float], k: int
) -> pd.DataFrame:
    """Weighted reciprocal-rank fusion of top-k lists: score = sum of weight / (60 + rank);
    ties in the order the members are given, then by product name."""
    parts = [
        ranked.assign(score=float(weights[name]) / (60.0 + ranked["rank"].to_numpy()))
        for name, ranked in rankings.items()
    ]
    fused = pd.concat(parts).groupby(["customer", "product"], as_index=False)["score"].sum()
    fused = fused.sort_values(["customer", "score", "product"], ascending=[True, False, True])
    fused["rank"] = fused.groupby("customer").cumcount() + 1
    return fused.loc[fused["rank"] <= k, ["customer", "product", "rank"]].reset_index(drop=True)


def tune_banking_blend(
    train: pd.DataFrame, lightgbm: pd.DataFrame, gnn: pd.DataFrame, banking: dict[str, Any]
) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    """(the GNN's weight beside LightGBM's 1 with the best validation MAP@k, the grid's
    scores, the blend's validation ranking). At weight 0 LightGBM's order stands; the GNN
    only fills lists LightGBM leaves shorter than k."""
    weights, k = banking["blend"]["gnn_weights"], int(banking["k"])
    truth = added_products(train).query("month == @VALIDATION_MONTH")
    customers = train.loc[train["month"] == VALIDATION_MONTH, "customer"].to_numpy()
    rows, rankings = [], {}
    for weight in weights:
        fused = fuse_rankings(
            {"lightgbm": lightgbm, "gnn": gnn}, {"lightgbm": 1.0, "gnn": weight}, k
        )
        rankings[weight] = fused
        rows.append(
            {"gnn_weight": weight, "map_all": map_at_k(fused, truth, customers, k)["map_all"]}
        )
    grid = pd.DataFrame(rows)
    best = float(grid.loc[grid["map_all"].idxmax(), "gnn_weight"])  # first of equal scores
    return {"lightgbm": 1.0, "gnn": best}, grid, rankings[best]


def blend_test(
    lightgbm: pd.DataFrame, gnn: pd.DataFrame, weights: dict[str, float], banking: dict[str, Any]
) -> pd.DataFrame:
    """The test month's blend with the weights chosen on validation."""
    return fuse_rankings({"lightgbm": lightgbm, "gnn": gnn}, weights, int(banking["k"]))

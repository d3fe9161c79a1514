"""A paired bootstrap over customers of ``banking_data.metrics.average_precision`` (whose
mean is the competition's MAP@7), the fallback for customers with no previous month, and
Kaggle's submission format.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..banking_data.contract import PRODUCTS, SUBMISSION_COLUMNS
from ..banking_data.metrics import popularity_predictions


def paired_bootstrap(
    scores: dict[str, np.ndarray],
    resamples: int,
    seed: int,
    confidence: float = 0.95,
    reference: str | None = None,
    block: int = 50,
) -> dict[str, dict[str, float]]:
    """Per model: the mean and its ``_ci_low``/``_ci_high`` over customers resampled with
    replacement (the same resamples for every model); with ``reference``, the difference to
    it (``diff``, ``diff_ci_low``, ``diff_ci_high``). ``scores``: per-customer values, the
    same customers in the same order for every model."""
    models = list(scores)
    matrix = np.stack([np.asarray(scores[m], dtype=float) for m in models], axis=1)
    n = matrix.shape[0]
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, int(resamples), block):
        size = min(block, int(resamples) - start)
        counts = np.stack(
            [np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(size)]
        ).astype(float)
        means.append(counts @ matrix / max(n, 1))
    boot = np.concatenate(means) if means else np.zeros((0, len(models)))
    alpha = (1 - confidence) / 2
    point = matrix.mean(axis=0) if n else np.zeros(len(models))
    result = {}
    for index, model in enumerate(models):
        low, high = np.quantile(boot[:, index], [alpha, 1 - alpha])
        row = {"mean": float(point[index]), "ci_low": float(low), "ci_high": float(high)}
        if reference is not None:
            other = models.index(reference)
            diff = boot[:, index] - boot[:, other]
            low, high = np.quantile(diff, [alpha, 1 - alpha])
            row.update(diff=float(point[index] - point[other]), diff_ci_low=float(low),
                       diff_ci_high=float(high))  # fmt: skip
        result[model] = row
    return result


def popularity_for(train: pd.DataFrame, month: int, customers, k: int) -> pd.DataFrame:
    """``metrics.popularity_predictions`` for ``customers``, including those absent from
    ``month - 1`` (who get the ranking itself: nothing is known they hold). The absent are
    given an empty row at ``month - 1``: it adds no addition, so the ranking is unchanged."""
    history = train.loc[train["month"] < month, ["customer", "month", *PRODUCTS]]
    last = history.loc[history["month"] == month - 1, "customer"]
    absent = np.setdiff1d(pd.unique(np.asarray(customers)), last.to_numpy())
    empty = pd.DataFrame(0, index=range(len(absent)), columns=PRODUCTS, dtype="int8")
    empty.insert(0, "month", np.int16(month - 1))
    empty.insert(0, "customer", absent.astype("int32"))
    ranked = popularity_predictions(pd.concat([history, empty], ignore_index=True), month, k)
    return ranked[ranked["customer"].isin(customers)].reset_index(drop=True)


def with_fallback(
    predictions: pd.DataFrame, train: pd.DataFrame, month: int, customers, k: int
) -> pd.DataFrame:
    """``predictions`` for the customers it ranks, popularity (``popularity_for``) for the
    other ``customers``: one ranking for every customer of the month."""
    missing = np.setdiff1d(pd.unique(np.asarray(customers)), predictions["customer"].unique())
    fallback = popularity_for(train, month, missing, k) if missing.size else None
    combined = pd.concat([predictions, fallback], ignore_index=True)
    combined = combined[combined["customer"].isin(customers)]
    return combined.sort_values(["customer", "rank"], kind="stable").reset_index(drop=True)


def submission_frame(predictions: pd.DataFrame, customers) -> pd.DataFrame:
    """Kaggle's ``ncodpers,added_products`` (space separated, best first): one row per
    customer of ``customers``, in their order ("" for one with no prediction)."""
    ranked = predictions.sort_values(["customer", "rank"], kind="stable")
    joined = ranked.groupby("customer")["product"].agg(" ".join)
    ids = pd.unique(np.asarray(customers))
    return pd.DataFrame(
        {"ncodpers": ids, "added_products": joined.reindex(ids).fillna("").to_numpy()}
    )[SUBMISSION_COLUMNS]

"""The union of the candidate sources, the popularity fallback, and the recall report."""

import logging
from typing import Any

import numpy as np
import pandas as pd

from .nodes import KEYS, require_columns

logger = logging.getLogger(__name__)


def combine_candidates(
    customer_weeks: pd.DataFrame, params: dict[str, Any], **sources: pd.DataFrame
) -> pd.DataFrame:
    """One row per (week, customer, article) with each source's rank (NaN: not proposed).

    A ranked customer that no source served gets the week's ``fallback_source`` list
    (popularity: the same for everyone), and the number of such customers is logged.
    """
    ranked = []
    for name, candidates in sources.items():
        require_columns(candidates, [*KEYS, "source_rank"], f"candidates_{name}")
        ranked.append(
            candidates[[*KEYS, "source_rank"]]
            .rename(columns={"source_rank": f"rank_{name}"})
            .set_index(KEYS)
        )
    union = pd.concat(ranked, axis=1, join="outer").reset_index()
    served = union[["week", "customer_id"]].drop_duplicates()
    unserved = customer_weeks[["week", "customer_id"]].merge(served, how="left", indicator=True)
    unserved = unserved.loc[unserved["_merge"] == "left_only", ["week", "customer_id"]]
    fallback = _fallback(unserved, sources[params["fallback_source"]], params)
    logger.info(
        "Customer-weeks with no candidate from any source, served by the %s fallback: %d of %d",
        params["fallback_source"],
        len(unserved),
        len(customer_weeks),
    )
    union = pd.concat([union, fallback], ignore_index=True)
    rank_columns = [f"rank_{name}" for name in sources]
    union[rank_columns] = union[rank_columns].astype("float64")
    union["n_sources"] = union[rank_columns].notna().sum(axis=1)
    union = union.merge(customer_weeks[["week", "customer_id", "has_history"]], on=KEYS[:2])
    return union.sort_values(KEYS, ignore_index=True)


def _fallback(
    unserved: pd.DataFrame, popularity: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """The week's best-ranked fallback articles for every unserved customer-week."""
    column = f"rank_{params['fallback_source']}"
    if unserved.empty:
        return pd.DataFrame(columns=[*KEYS, column])
    week_list = (
        popularity.groupby(["week", "article_id"], as_index=False)["source_rank"]
        .min()
        .sort_values(["week", "source_rank"])
    )
    week_list = week_list[week_list.groupby("week").cumcount() < params["fallback_top_n"]]
    fallback = unserved.merge(week_list, on="week").rename(columns={"source_rank": column})
    lost = unserved[~unserved["week"].isin(week_list["week"])]
    if len(lost):
        logger.warning("%d customer-weeks get no candidate at all: no fallback list", len(lost))
    return fallback


def candidate_report(
    candidates: pd.DataFrame, week_purchases: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """Recall of each source and of the union in ``report_week``, and candidates per customer.

    Recall = purchased (customer, article) pairs that the candidates contain / all purchased
    pairs of the ranked customers that week.
    """
    week = params["report_week"]
    bought = week_purchases.loc[week_purchases["week"] == week, KEYS]
    if bought.empty:
        raise ValueError(f"week_purchases has no purchase in week {week}: cannot measure recall")
    week_candidates = candidates[candidates["week"] == week]
    hits = bought.merge(week_candidates, on=KEYS, how="left")
    per_customer = week_candidates.groupby("customer_id").size()
    rank_columns = [column for column in candidates.columns if column.startswith("rank_")]
    rows = []
    for column in [*rank_columns, "union"]:
        proposed = hits["n_sources"].notna() if column == "union" else hits[column].notna()
        in_week = week_candidates if column == "union" else week_candidates.dropna(subset=column)
        rows.append(
            {
                "source": column.removeprefix("rank_"),
                "recall": float(proposed.mean()),
                "candidates": len(in_week),
                "candidates_per_customer": len(in_week) / max(len(per_customer), 1),
            }
        )
    report = pd.DataFrame(rows)
    report["week"] = week
    logger.info("Candidate recall in week %d:\n%s", week, report.to_string(index=False))
    metrics = {
        f"recall.{source}": {"value": recall, "step": 0}
        for source, recall in zip(report["source"], report["recall"], strict=True)
    }
    metrics["candidates_per_customer.mean"] = {"value": float(per_customer.mean()), "step": 0}
    metrics["candidates_per_customer.max"] = {
        "value": float(np.max(per_customer.to_numpy(), initial=0)),
        "step": 0,
    }
    return report, metrics

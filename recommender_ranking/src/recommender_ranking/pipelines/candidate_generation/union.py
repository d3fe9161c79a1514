"""The union of the candidate sources, the popularity fallback, and the recall report."""

import logging
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from .nodes import KEYS, require_columns

logger = logging.getLogger(__name__)


def combine_candidates(
    customer_weeks: pd.DataFrame, params: dict[str, Any], **sources: pd.DataFrame
) -> pd.DataFrame:
    """One row per (week, customer, article) with each source's rank (NaN: not proposed).

    A ranked customer that no source served gets the week's ``fallback_source`` list
    (popularity: the same for everyone), and the number of such customers is logged. The
    union is one DuckDB GROUP BY over the stacked sources (an outer join of string-indexed
    frames in pandas took about 10 GB for 18 M candidates).
    """
    for name, candidates in sources.items():
        require_columns(candidates, [*KEYS, "source_rank"], f"candidates_{name}")
        if not name.isidentifier():
            raise ValueError(f"candidate source name {name!r} is not a valid column suffix")
    fallback = params["fallback_source"]
    # Ids go to DuckDB as integer codes in the strings' sorted order (so ORDER BY gives the
    # same rows in the same order): grouping and sorting Python string ids was most of the
    # union's time. They come back as the same strings.
    customer_ids = _sorted_ids([customer_weeks["customer_id"]])
    article_ids = _sorted_ids([candidates["article_id"] for candidates in sources.values()])
    connection = duckdb.connect(config={"threads": params.get("duckdb_threads", 2)})
    try:
        for name, candidates in sources.items():
            coded = candidates[["week", "source_rank"]].assign(
                customer_id=_codes(candidates["customer_id"], customer_ids),
                article_id=_codes(candidates["article_id"], article_ids),
            )
            connection.register(f"source_{name}", coded)
        connection.register(
            "customer_weeks",
            customer_weeks[["week", "has_history"]].assign(
                customer_id=_codes(customer_weeks["customer_id"], customer_ids)
            ),
        )
        connection.execute(_STACK.format(stacked=_stacked(list(sources))))
        connection.execute(_UNSERVED.format(fallback=fallback, top_n=int(params["fallback_top_n"])))
        n_unserved, n_lost = connection.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT has_list) FROM unserved"
        ).fetchall()[0]
        # Arrow to pandas shares one Python string per distinct id (DuckDB's .df() makes one
        # per row: several GB of repeated customer ids at 10% of the H&M size).
        union = connection.sql(
            _UNION.format(
                fallback=fallback, ranks=_ranks(list(sources)), n_sources=_n_sources(list(sources))
            )
        )
        union = union.to_arrow_table().to_pandas(split_blocks=True, self_destruct=True)
    finally:
        connection.close()
    union["customer_id"] = customer_ids.take(union["customer_id"].to_numpy())
    union["article_id"] = article_ids.take(union["article_id"].to_numpy())
    logger.info(
        "Customer-weeks with no candidate from any source, served by the %s fallback: %d of %d",
        fallback,
        n_unserved,
        len(customer_weeks),
    )
    if n_lost:
        logger.warning("%d customer-weeks get no candidate at all: no fallback list", n_lost)
    union["n_sources"] = union["n_sources"].astype("int64")
    union["has_history"] = union["has_history"].astype("bool")
    return union


def _sorted_ids(columns: list[pd.Series]) -> np.ndarray:
    """The distinct ids of ``columns`` as strings (the union's ids were VARCHAR), sorted."""
    ids = pd.unique(np.concatenate([pd.unique(column.to_numpy()) for column in columns]))
    return np.unique(np.asarray([str(value) for value in ids], dtype=object))


def _codes(column: pd.Series, sorted_ids: np.ndarray) -> np.ndarray:
    """Each value's position in ``sorted_ids`` (-1: absent; only a customer can be, and the
    union drops customers that customer_weeks does not hold)."""
    values = column.to_numpy()
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        values = np.asarray([str(value) for value in values], dtype=object)
    return pd.Index(sorted_ids).get_indexer(values)


def _stacked(names: list[str]) -> str:
    return "\nUNION ALL\n".join(
        f"SELECT CAST(week AS BIGINT) AS week, customer_id, article_id, '{name}' AS source, "
        f"CAST(source_rank AS DOUBLE) AS source_rank FROM source_{name}"
        for name in names
    )


def _ranks(names: list[str]) -> str:
    return ",\n".join(
        f"CAST(MIN(source_rank) FILTER (WHERE source = '{name}') AS FLOAT) AS rank_{name}"
        for name in names
    )


def _n_sources(names: list[str]) -> str:
    """How many sources proposed the row: COUNT(DISTINCT source) without its per-group
    hash sets (a third of the union's time); every row's source is one of ``names``."""
    return " + ".join(
        f"CAST(COUNT(*) FILTER (WHERE source = '{name}') > 0 AS BIGINT)" for name in names
    )


_STACK = "CREATE TEMP TABLE proposals AS {stacked}"
# Customer-weeks no source served, and the week's fallback list (its best-ranked articles).
_UNSERVED = """
CREATE TEMP TABLE fallback_list AS
SELECT week, article_id, MIN(source_rank) AS source_rank
FROM proposals WHERE source = '{fallback}'
GROUP BY week, article_id
QUALIFY ROW_NUMBER() OVER (PARTITION BY week ORDER BY MIN(source_rank), article_id) <= {top_n};
CREATE TEMP TABLE unserved AS
SELECT c.week, c.customer_id, c.week IN (SELECT week FROM fallback_list) AS has_list
FROM customer_weeks AS c
ANTI JOIN (SELECT DISTINCT week, customer_id FROM proposals) AS p USING (week, customer_id);
"""
_UNION = """
WITH rows AS (
  SELECT * FROM proposals
  UNION ALL
  SELECT u.week, u.customer_id, f.article_id, '{fallback}', f.source_rank
  FROM unserved AS u JOIN fallback_list AS f USING (week)
)
SELECT r.week, r.customer_id, r.article_id, {ranks},
  {n_sources} AS n_sources, ANY_VALUE(c.has_history) AS has_history
FROM rows AS r JOIN customer_weeks AS c USING (week, customer_id)
GROUP BY r.week, r.customer_id, r.article_id
ORDER BY r.week, r.customer_id, r.article_id
"""


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

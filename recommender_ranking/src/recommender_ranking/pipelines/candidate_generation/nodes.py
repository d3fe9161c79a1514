"""Candidate sources and their union.

The SQL sources (popularity, segment popularity, repurchase, same product, co-purchase) are
queries in ``src/recommender_ranking/sql`` run by the catalog (DuckDB locally, BigQuery in
``gcp``); their nodes here check what came back. The image and text sources search a faiss
index of article embeddings. Every source returns the same columns: ``week``,
``customer_id``, ``article_id``, ``score``, ``source_rank`` (1 = best).
"""

import logging
from typing import Any

import faiss
import numpy as np
import pandas as pd

from recommender_ranking.checks import require_columns  # also imported from here

logger = logging.getLogger(__name__)

SOURCE_COLUMNS = ["week", "customer_id", "article_id", "score", "source_rank"]
KEYS = ["week", "customer_id", "article_id"]


def check_week_calendar(week_calendar: pd.DataFrame, transactions: pd.DataFrame) -> pd.DataFrame:
    """The calendar query's weeks (week, cutoff), one row per week from 0, sorted.

    ``transactions`` is an input so that Kedro runs the calendar after data_preparation.
    """
    require_columns(week_calendar, ["week", "cutoff"], "week_calendar")
    require_columns(transactions, ["t_dat"], "transactions")
    calendar = week_calendar[["week", "cutoff"]].sort_values("week", ignore_index=True)
    if calendar["week"].tolist() != list(range(len(calendar))) or calendar["cutoff"].isna().any():
        raise ValueError(
            f"week_calendar must hold weeks 0, 1, 2, ... with a cutoff each; got "
            f"{calendar.to_dict('records')}"
        )
    return calendar


def select_customer_weeks(
    customer_weeks: pd.DataFrame,
    transactions: pd.DataFrame,
    week_calendar: pd.DataFrame,
    as_of_date: str,
    customers_per_chunk: int,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The ranked customers of the labelled weeks, and week 0's customers in chunks.

    Cross-checks the query's calendar with pandas: with ``as_of_date`` empty, the customers
    of week 1 must be the buyers of the last 7 days of ``transactions`` (with a test-buyer
    sample, ``buyer_share`` below 1: that share of them). Week 0 (every
    customer) is split into chunks of ``customers_per_chunk`` (sorted ids): the
    recommendation pipeline runs its queries and features chunk by chunk. ``week_calendar``
    is an input so that Kedro runs the query after the calendar is written.
    """
    require_columns(
        customer_weeks, ["week", "customer_id", "has_history", "buyer_share"], "customer_weeks"
    )
    require_columns(transactions, ["t_dat", "customer_id"], "transactions")
    counts = customer_weeks.groupby("week")["customer_id"].size()
    if 1 not in counts.index:
        raise ValueError(
            "customer_weeks has no customer in week 1 (the test week): the transactions "
            "hold no purchase in their last 7 days"
        )
    if not as_of_date:
        last_week = transactions["t_dat"] > transactions["t_dat"].max() - pd.Timedelta(days=7)
        buyers = transactions.loc[last_week, "customer_id"].unique()
        tested = customer_weeks[customer_weeks["week"] == 1]
        share = float(tested["buyer_share"].iloc[0])
        if round(share * len(buyers)) != counts[1] or not tested["customer_id"].isin(buyers).all():
            raise ValueError(
                f"customer_weeks has {counts[1]} customers in week 1 but transactions have "
                f"{len(buyers)} buyers in their last 7 days: the query's calendar is off"
            )
        if share < 1:
            logger.info(
                "Test week: %d of its %d buyers (%.1f%%: ranking_sql.test_sample_per_million, "
                "max_test_buyers)",
                counts[1],
                len(buyers),
                100 * share,
            )
    if not set(counts.index) <= set(week_calendar["week"]):
        raise ValueError("customer_weeks has weeks that week_calendar does not list")
    logger.info("Ranked customers per week: %s", counts.to_dict())
    ordered = customer_weeks.sort_values(["week", "customer_id"], ignore_index=True)
    week0 = ordered[ordered["week"] == 0].reset_index(drop=True)
    size = max(int(customers_per_chunk), 1)
    chunks = {
        f"chunk_{start // size:05d}": week0.iloc[start : start + size].reset_index(drop=True)
        for start in range(0, len(week0), size)
    }
    logger.info("Week 0: %d customers in %d chunk(s) of at most %d", len(week0), len(chunks), size)
    return ordered[ordered["week"] >= 1].reset_index(drop=True), chunks


def collect_week_purchases(
    week_purchases: pd.DataFrame, customer_weeks: pd.DataFrame
) -> pd.DataFrame:
    """Labels: what each ranked customer bought in each labelled week."""
    require_columns(week_purchases, KEYS, "week_purchases")
    labelled = week_purchases[["week", "customer_id"]].drop_duplicates()
    ranked = labelled.merge(customer_weeks[["week", "customer_id"]], how="left", indicator=True)
    if (ranked["_merge"] == "left_only").any() or (week_purchases["week"] < 1).any():
        raise ValueError(
            "week_purchases has customers or weeks that customer_weeks does not rank "
            "(labels exist for weeks >= 1 and ranked customers only)"
        )
    return week_purchases[KEYS].sort_values(KEYS, ignore_index=True)


def check_source(
    source_candidates: pd.DataFrame, customer_weeks: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Validate one SQL source against its parameters and the ranked customers."""
    name = params["name"]
    require_columns(source_candidates, SOURCE_COLUMNS, f"candidates_{name}")
    candidates = source_candidates[SOURCE_COLUMNS].copy()
    if (candidates["source_rank"] > params["top_n"]).any():
        raise ValueError(
            f"candidates_{name} has source_rank above its top_n {params['top_n']}: the "
            "query and parameters disagree"
        )
    # integer codes of (week, customer) (a merge and a sort on string ids took 2 s per
    # chunk of 25,000 week-0 customers); customers in sorted order, so the sort is the same
    weeks = pd.Index(pd.unique(customer_weeks["week"].to_numpy()))
    customers = pd.Index(np.sort(pd.unique(customer_weeks["customer_id"].to_numpy())))

    def codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        week, customer = (
            weeks.get_indexer(frame["week"]),
            customers.get_indexer(frame["customer_id"]),
        )
        return np.where((week < 0) | (customer < 0), -1, week * len(customers) + customer), customer

    known = np.zeros(len(weeks) * len(customers), dtype=bool)
    known[codes(customer_weeks)[0]] = True
    rows, customer = codes(candidates)
    if (rows < 0).any() or not known[rows].all():
        raise ValueError(f"candidates_{name} has customers that are not in customer_weeks")
    _log_source(candidates, name, len(np.unique(rows)))
    order = np.lexsort((candidates["source_rank"].to_numpy(), customer, candidates["week"]))
    return candidates.take(order).reset_index(drop=True)


def _log_source(candidates: pd.DataFrame, name: str, n_customer_weeks: int | None = None) -> None:
    if n_customer_weeks is None:
        n_customer_weeks = len(candidates[["week", "customer_id"]].drop_duplicates())
    logger.info(
        "Source %s: %d candidates, %d customer-weeks, %.1f per customer-week",
        name,
        len(candidates),
        n_customer_weeks,
        len(candidates) / n_customer_weeks if n_customer_weeks else 0.0,
    )


def embedding_matrix(embeddings: pd.DataFrame, prefix: str, dataset: str) -> pd.DataFrame:
    """Article embeddings as a float32 frame indexed by article_id, rows L2-normalised."""
    columns = [column for column in embeddings.columns if column.startswith(prefix)]
    if "article_id" not in embeddings.columns or not columns:
        raise ValueError(
            f"{dataset} needs article_id and {prefix}NNN columns, got "
            f"{list(embeddings.columns)[:5]}"
        )
    vectors = embeddings[columns].to_numpy(dtype="float32")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms > 0, norms, 1.0)
    return pd.DataFrame(vectors, index=embeddings["article_id"].to_numpy(), columns=columns)


def nearest_neighbour_candidates(
    embeddings: pd.DataFrame,
    seeds: pd.DataFrame,
    transactions: pd.DataFrame,
    customer_weeks: pd.DataFrame,
    params: dict[str, Any],
    cache: dict | None = None,
) -> pd.DataFrame:
    """Articles closest (inner product of unit vectors) to the customer's recent purchases.

    The seeds are the customer's recent purchases (the repurchase source, best
    ``n_seed_articles``). For each week, a faiss index (exact ``IndexFlatIP``, or HNSW when
    ``index: hnsw``) holds the articles sold in the ``active_days`` before the week's cutoff
    (null: every article first sold before it), and is searched once for
    ``neighbours_per_seed`` neighbours of every distinct seed; a candidate's score is its best
    similarity to any seed.

    ``cache`` (a dict kept by the caller across chunks of customers of the same weeks) keeps
    the vectors, each week's index and the neighbours already found: each distinct seed is
    searched once per week, not once per chunk.
    """
    name = params["name"]
    cache = {} if cache is None else cache
    if "vectors" not in cache:
        cache["vectors"] = embedding_matrix(
            embeddings, params["column_prefix"], f"article_{name}_embeddings"
        )
    vectors = cache["vectors"]
    seeds = seeds.loc[seeds["source_rank"] <= params["n_seed_articles"], KEYS]
    seeds = seeds[seeds["article_id"].isin(vectors.index)]
    cutoffs = customer_weeks.groupby("week")["cutoff"].first()
    frames = [
        _week_neighbours(
            vectors, week_seeds, transactions, cutoffs[week], params, cache.setdefault(week, {})
        )
        for week, week_seeds in seeds.groupby("week")
    ]
    scored = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if scored.empty:
        logger.warning("Source %s: no seed article has an embedding: no candidates", name)
        return pd.DataFrame({column: [] for column in SOURCE_COLUMNS}).astype(
            {"week": "int64", "score": "float64", "source_rank": "int64"}
        )
    scored = scored.sort_values(
        ["week", "customer_id", "score", "article_id"], ascending=[True, True, False, True]
    )
    scored["source_rank"] = scored.groupby(["week", "customer_id"]).cumcount() + 1
    scored = scored.loc[scored["source_rank"] <= params["top_n"], SOURCE_COLUMNS]
    scored = scored.sort_values(["week", "customer_id", "source_rank"], ignore_index=True)
    _log_source(scored, name)
    return scored


def _week_neighbours(
    vectors: pd.DataFrame,
    seeds: pd.DataFrame,
    transactions: pd.DataFrame,
    cutoff: pd.Timestamp,
    params: dict[str, Any],
    cache: dict,
) -> pd.DataFrame:
    """One week's (customer, article, best similarity) from the neighbours of its seeds."""
    seed_articles = np.sort(seeds["article_id"].unique())
    if "index" not in cache:
        # On sale: first sold before the cutoff (variants launch at other dates), and with
        # ``active_days`` sold within them.
        sold = transactions["t_dat"] < cutoff
        if params.get("active_days"):
            sold &= transactions["t_dat"] >= cutoff - pd.Timedelta(days=params["active_days"])
        pool = vectors[vectors.index.isin(transactions.loc[sold, "article_id"])]
        index = _faiss_index(vectors.shape[1], params)
        index.add(np.ascontiguousarray(pool.to_numpy()))
        cache.update(index=index, pool=pool.index.to_numpy(), found=[], searched=set())
    pool_ids = cache["pool"]
    if len(pool_ids) == 0 or len(seed_articles) == 0:
        return pd.DataFrame(columns=[*KEYS, "score"])
    new_seeds = np.array([a for a in seed_articles if a not in cache["searched"]], dtype=object)
    if len(new_seeds):  # one faiss search of the seeds no earlier chunk searched
        k = min(params["neighbours_per_seed"] + 1, len(pool_ids))
        similarity, position = cache["index"].search(
            np.ascontiguousarray(vectors.loc[new_seeds].to_numpy()), k
        )
        found = position.ravel() >= 0
        cache["found"].append(
            pd.DataFrame(
                {
                    "seed_article_id": np.repeat(new_seeds, k)[found],
                    "article_id": pool_ids[position.ravel()[found]],
                    "score": similarity.ravel()[found].astype("float64"),
                }
            )
        )
        cache["searched"].update(new_seeds)
    neighbours = pd.concat(cache["found"], ignore_index=True)
    cache["found"] = [neighbours]
    neighbours = neighbours[
        neighbours["seed_article_id"].isin(seed_articles)
        & (neighbours["article_id"] != neighbours["seed_article_id"])
    ]
    return (
        seeds.rename(columns={"article_id": "seed_article_id"})
        .merge(neighbours, on="seed_article_id")
        .groupby(KEYS, as_index=False)["score"]
        .max()
    )


def _faiss_index(dimension: int, params: dict[str, Any]) -> faiss.Index:
    if params.get("index", "flat") == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, params.get("hnsw_m", 32), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = params.get("hnsw_ef_search", 64)
        return index
    return faiss.IndexFlatIP(dimension)

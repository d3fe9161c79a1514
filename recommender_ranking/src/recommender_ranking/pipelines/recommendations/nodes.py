"""Week 0 for every customer, chunk by chunk: candidates, features, the champion's top k.

Week 0 holds every customer (1.37 M at the real H&M size, about 100 candidates each), so no
node holds its whole candidate table: the queries (``recommendation_sql_*``) give one loader
per chunk of customers (``recommendation_customers``; locally each query runs once for all
customers and the loaders read its result split by chunk), and each chunk goes through the
same functions as the labelled weeks (sources, union, feature join, embedding similarity), is
scored by the champion and reduced to each customer's k articles before the next one loads.
Customers with fewer than k ranked candidates are completed from the week's popularity list.
"""

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from recommender_ranking.datasets.mlflow_model_alias_dataset import RegisteredModel
from recommender_ranking.pipelines.candidate_generation.nodes import (
    KEYS,
    check_source,
    nearest_neighbour_candidates,
    require_columns,
)
from recommender_ranking.pipelines.candidate_generation.pipeline import (
    EMBEDDING_SOURCES,
    SQL_SOURCES,
)
from recommender_ranking.pipelines.candidate_generation.union import combine_candidates
from recommender_ranking.pipelines.feature_engineering.nodes import (
    add_embedding_similarity,
    build_model_input,
    join_sql_features,
)
from recommender_ranking.pipelines.feature_engineering.selection import dfs_customer_features
from recommender_ranking.pipelines.model_evaluation.metrics import rank_by_score
from recommender_ranking.pipelines.model_registry.nodes import RankingModel

logger = logging.getLogger(__name__)

FEATURE_QUERIES = [
    "customer_features",
    "article_features",
    "customer_article_features",
    "customer_attribute_features",
]
Chunks = dict[str, Callable[[], pd.DataFrame]] | pd.DataFrame


def recommend(
    champion_model: RegisteredModel,
    customers: pd.DataFrame,
    articles: pd.DataFrame,
    transactions: pd.DataFrame,
    article_image_embeddings: pd.DataFrame,
    article_text_embeddings: pd.DataFrame,
    candidate_params: dict[str, Any],
    feature_params: dict[str, Any],
    params: dict[str, Any],
    **queries: Chunks,
) -> pd.DataFrame:
    """Kaggle format: ``customer_id``, ``prediction`` (k space-separated article ids).

    ``queries`` holds ``customer_weeks`` (week 0's customers) and every query's result, each
    as ``{chunk: loader}`` (or one frame: a single chunk, as BigQuery returns it).
    """
    require_columns(customers, ["customer_id"], "customers")
    chunked = {name: _as_chunks(result) for name, result in queries.items()}
    chunk_names = sorted(chunked["customer_weeks"])
    if not chunk_names:
        raise ValueError(
            "recommendation_customers has no chunk (week 0's customers): run the "
            "candidate_generation pipeline first"
        )
    columns = champion_model.model.metadata.get_input_schema().input_names()
    embeddings = {"image": article_image_embeddings, "text": article_text_embeddings}
    # each distinct seed article's neighbours are searched once for all chunks
    caches = {source: {} for source in EMBEDDING_SOURCES}
    context = (champion_model, columns, customers, articles, transactions, embeddings, caches)
    pieces, n_short = [], 0
    for name in chunk_names:
        submission, short = _recommend_chunk(
            {query: loaders[name]() for query, loaders in chunked.items()},
            context,
            candidate_params,
            feature_params,
            params,
        )
        pieces.append(submission)
        n_short += short
        logger.info("Recommendations: chunk %s, %d customers", name, len(submission))
    submission = pd.concat(pieces, ignore_index=True)
    logger.info(
        "Recommendations: %d customers in %d chunk(s), %d of them completed from the popularity "
        "fallback (champion v%s)",
        len(submission),
        len(chunk_names),
        n_short,
        champion_model.version,
    )
    ordered = customers[["customer_id"]].drop_duplicates()
    submission = ordered.merge(submission, on="customer_id", how="left")
    if submission["prediction"].isna().any():
        missing = submission.loc[submission["prediction"].isna(), "customer_id"].head(3).tolist()
        raise ValueError(
            f"recommendation_customers lacks customers of `customers` (e.g. {missing}): rerun "
            "candidate_generation on the same customers"
        )
    return submission


def _as_chunks(result: Chunks) -> dict[str, Callable[[], pd.DataFrame]]:
    if isinstance(result, pd.DataFrame):
        return {"all": lambda: result}
    return dict(result)


def _recommend_chunk(
    loaded: dict[str, pd.DataFrame],
    context: tuple,
    candidate_params: dict[str, Any],
    feature_params: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, int]:
    """One chunk of customers: their submission rows and how many needed the fallback."""
    champion_model, columns, customers, articles, transactions, embeddings, caches = context
    customer_weeks = loaded["customer_weeks"]
    require_columns(customer_weeks, ["week", "customer_id", "cutoff", "has_history"], "week 0")
    sources = {
        source: check_source(
            loaded[f"candidates_{source}"], customer_weeks, candidate_params[source]
        )
        for source in SQL_SOURCES
    }
    for source, modality in EMBEDDING_SOURCES.items():
        sources[source] = nearest_neighbour_candidates(
            embeddings[modality],
            sources["repurchase"],
            transactions,
            customer_weeks,
            candidate_params[source],
            caches[source],
        )
    candidates = combine_candidates(customer_weeks, candidate_params["union"], **sources)
    features = join_sql_features(
        candidates, *(loaded[query] for query in FEATURE_QUERIES), feature_params
    )
    del candidates
    features = add_embedding_similarity(
        features,
        sources["repurchase"],
        embeddings["image"],
        embeddings["text"],
        feature_params,
    )
    if any(column.startswith("dfs_") for column in columns):
        dfs = dfs_customer_features(
            transactions, customers, articles, customer_weeks, feature_params["dfs"]
        )
    else:
        dfs = customer_weeks[["week", "customer_id"]]
    rows = build_model_input(features, dfs, pd.DataFrame(columns=KEYS))
    del features
    return top_k_with_fallback(champion_model, rows, customer_weeks["customer_id"], params)


def top_k_with_fallback(
    champion_model: RegisteredModel,
    rows: pd.DataFrame,
    customer_ids: pd.Series,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, int]:
    """Each customer's k articles (submission rows): the champion's best-scored candidate
    rows first, then the popularity list; and how many customers needed that fallback."""
    columns = champion_model.model.metadata.get_input_schema().input_names()
    require_columns(rows, columns, f"week 0 features (champion v{champion_model.version})")
    k, column = params["k"], params["fallback_rank_column"]
    ranked = rank_by_score(rows[KEYS].assign(score=_scores(champion_model, rows, columns)), k)
    popular = (
        rows[["article_id", column]]
        .dropna(subset=column)
        .groupby("article_id", as_index=False)[column]
        .min()
        .sort_values([column, "article_id"])
        .head(k)
    )
    return fill_from_popularity(ranked, popular["article_id"], customer_ids, k, column)


def fill_from_popularity(
    ranked: pd.DataFrame, popular: pd.Series, customer_ids: pd.Series, k: int, column: str
) -> tuple[pd.DataFrame, int]:
    """k distinct articles for every one of ``customer_ids``, those without any ranked row
    included (Kaggle refuses a submission that misses a customer): the ranked ones first, then
    ``popular`` in order, skipping repeats; and how many customers needed the fill."""
    if len(popular) < k:
        raise ValueError(
            f"the fallback list ({column}) has {len(popular)} articles in week 0, fewer than k={k}"
        )
    n_ranked = ranked.groupby("customer_id").size()
    customer_ids = customer_ids.drop_duplicates()
    short = customer_ids[n_ranked.reindex(customer_ids).fillna(0).to_numpy() < k].to_frame()
    fallback = short.merge(popular.rename("article_id").to_frame(), how="cross")
    fallback["rank"] = k + fallback.groupby("customer_id").cumcount() + 1
    combined = pd.concat([ranked[["customer_id", "article_id", "rank"]], fallback])
    combined = combined.sort_values(["customer_id", "rank"]).drop_duplicates(
        ["customer_id", "article_id"]
    )
    combined = combined[combined.groupby("customer_id").cumcount() < k]
    submission = (
        combined.groupby("customer_id", sort=False)["article_id"]
        .agg(" ".join)
        .rename("prediction")
        .reset_index()
    )
    return submission, len(short)


def _scores(champion_model: RegisteredModel, rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """The champion's scores: ``RankingModel.score`` (no pyfunc copies) when the registered
    model is one, else pyfunc's ``predict`` on float64 columns."""
    try:
        python_model = champion_model.model.unwrap_python_model()
    except (MlflowException, AttributeError):  # not a PythonModel: score through pyfunc
        python_model = None
    if isinstance(python_model, RankingModel) and python_model.feature_columns == list(columns):
        return python_model.score(rows)
    scores = champion_model.model.predict(rows[columns].astype("float64"))
    return np.asarray(scores["score"], dtype="float64")

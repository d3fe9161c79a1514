"""Features of each candidate row (week, customer, article).

Customer, article and customer-article features are SQL (``sql/*_features.sql``, run by the
catalog); this module joins them to the candidates with merges. The similarity of a
candidate to the customer's recent purchases in embedding space is computed in numpy after
the SQL (BigQuery could do it, but the vectors are produced in Python). No row-wise apply.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from recommender_ranking.pipelines.candidate_generation.nodes import (
    KEYS,
    embedding_matrix,
    require_columns,
)

logger = logging.getLogger(__name__)

LABEL = "purchased"
NOT_FEATURES = {*KEYS, LABEL}


def join_sql_features(
    candidates: pd.DataFrame,
    customer_features: pd.DataFrame,
    article_features: pd.DataFrame,
    customer_article_features: pd.DataFrame,
    customer_attribute_features: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Candidates with their SQL features; pair counts of never-bought pairs are 0.

    For each attribute in ``params["affinity_attributes"]``, ``affinity_<attribute>`` is the
    share of the customer's recent purchases with the candidate's value of it.
    """
    require_columns(candidates, [*KEYS, "n_sources"], "candidates")
    require_columns(customer_features, KEYS[:2], "customer_features")
    require_columns(article_features, ["week", "article_id"], "article_features")
    require_columns(customer_article_features, KEYS, "customer_article_features")
    require_columns(
        customer_attribute_features,
        ["week", "customer_id", "attribute", "value", "share"],
        "customer_attribute_features",
    )
    features = candidates.merge(customer_features, on=["week", "customer_id"], how="left")
    features = features.merge(article_features, on=["week", "article_id"], how="left")
    features = features.merge(customer_article_features, on=KEYS, how="left")
    pair_counts = ["pair_times_bought", "pair_product_times_bought"]
    features[pair_counts] = features[pair_counts].fillna(0)
    for attribute in params["affinity_attributes"]:
        shares = customer_attribute_features.loc[
            customer_attribute_features["attribute"] == attribute,
            ["week", "customer_id", "value", "share"],
        ].rename(columns={"value": f"article_{attribute}", "share": f"affinity_{attribute}"})
        features = features.merge(
            shares, on=["week", "customer_id", f"article_{attribute}"], how="left"
        )
        features[f"affinity_{attribute}"] = features[f"affinity_{attribute}"].fillna(0.0)
    if len(features) != len(candidates):
        raise ValueError("a feature table has duplicate keys: the join multiplied candidates")
    return features


def add_embedding_similarity(
    features: pd.DataFrame,
    recent_purchases: pd.DataFrame,
    article_image_embeddings: pd.DataFrame,
    article_text_embeddings: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """``similarity_<modality>``: cosine of the candidate with the mean of the customer's recent
    purchases (the repurchase source's best ``n_recent_articles``, bought before the cutoff).

    NaN when the candidate or every recent purchase lacks an embedding.
    """
    recent = recent_purchases.loc[
        recent_purchases["source_rank"] <= params["n_recent_articles"], KEYS
    ]
    features = features.copy()
    for modality, embeddings in {
        "image": article_image_embeddings,
        "text": article_text_embeddings,
    }.items():
        vectors = embedding_matrix(embeddings, f"{modality}_emb_", f"article_{modality}_embeddings")
        features[f"similarity_{modality}"] = _similarity_to_profile(features, recent, vectors)
    return features


def _similarity_to_profile(
    features: pd.DataFrame, recent: pd.DataFrame, vectors: pd.DataFrame
) -> np.ndarray:
    """Cosine between each row's article vector and its customer-week's mean recent vector."""
    recent = recent[recent["article_id"].isin(vectors.index)]
    profile_keys = recent[["week", "customer_id"]].drop_duplicates().reset_index(drop=True)
    profile_position = pd.Series(
        np.arange(len(profile_keys)),
        index=pd.MultiIndex.from_frame(profile_keys),
    )
    sums = np.zeros((len(profile_keys), vectors.shape[1]), dtype="float64")
    rows = profile_position.reindex(pd.MultiIndex.from_frame(recent[["week", "customer_id"]]))
    np.add.at(sums, rows.to_numpy(), vectors.loc[recent["article_id"]].to_numpy())
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    profiles = sums / np.where(norms > 0, norms, 1.0)
    row_profile = profile_position.reindex(
        pd.MultiIndex.from_frame(features[["week", "customer_id"]])
    ).to_numpy()
    has_vector = features["article_id"].isin(vectors.index).to_numpy()
    usable = has_vector & ~np.isnan(row_profile)
    similarity = np.full(len(features), np.nan)
    article_vectors = vectors.loc[features.loc[usable, "article_id"]].to_numpy()
    similarity[usable] = np.einsum(
        "ij,ij->i", article_vectors, profiles[row_profile[usable].astype("int64")]
    )
    return similarity


def build_model_input(
    hand_features: pd.DataFrame, dfs_features: pd.DataFrame, week_purchases: pd.DataFrame
) -> pd.DataFrame:
    """Hand-written + DFS features and the label, sorted by query (week, customer)."""
    require_columns(week_purchases, KEYS, "week_purchases")
    labels = week_purchases[KEYS].drop_duplicates().assign(**{LABEL: 1})
    table = hand_features.merge(dfs_features, on=["week", "customer_id"], how="left")
    table = table.merge(labels, on=KEYS, how="left")
    table[LABEL] = table[LABEL].fillna(0).astype("int64")
    table.loc[table["week"] == 0, LABEL] = -1  # the recommendation week has no label
    numeric = [c for c in table.columns if c not in NOT_FEATURES and c != "has_history"]
    table[numeric] = table[numeric].astype("float64")
    table["has_history"] = table["has_history"].astype("bool")
    logger.info(
        "Model input: %d rows, %d features, positives per week %s",
        len(table),
        len(numeric),
        table[table[LABEL] >= 0].groupby("week")[LABEL].sum().to_dict(),
    )
    return table.sort_values(KEYS, ignore_index=True)

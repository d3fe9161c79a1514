"""Rank week 0's candidates with the champion and write the Kaggle submission.

Every customer of ``customers`` gets exactly k articles: the champion's best candidates,
then the week's popularity list (the fallback) for customers with fewer candidates, or
none at all (no purchase history and no segment match).
"""

import logging
from typing import Any

import pandas as pd

from recommender_ranking.datasets.mlflow_model_alias_dataset import RegisteredModel
from recommender_ranking.pipelines.candidate_generation.nodes import require_columns
from recommender_ranking.pipelines.model_evaluation.metrics import rank_by_score

logger = logging.getLogger(__name__)

FALLBACK_RANK_OFFSET = 1_000_000  # fallback articles come after every ranked candidate


def recommend(
    champion_model: RegisteredModel,
    ranking_features: pd.DataFrame,
    customers: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Kaggle format: ``customer_id``, ``prediction`` (k space-separated article ids)."""
    k, week = params["k"], params["week"]
    require_columns(customers, ["customer_id"], "customers")
    rows = ranking_features[ranking_features["week"] == week]
    if rows.empty:
        raise ValueError(
            f"ranking_features has no candidate in week {week} (the recommendation week): run "
            "the candidate_generation and feature_engineering pipelines first"
        )
    columns = champion_model.model.metadata.get_input_schema().input_names()
    require_columns(
        rows, columns, f"ranking_features (features of champion v{champion_model.version})"
    )
    scores = champion_model.model.predict(rows[columns].astype("float64"))
    ranked = rank_by_score(
        rows[["week", "customer_id", "article_id"]].assign(score=scores["score"].to_numpy()), k
    )
    popular = (
        rows.dropna(subset=params["fallback_rank_column"])
        .groupby("article_id", as_index=False)[params["fallback_rank_column"]]
        .min()
        .sort_values([params["fallback_rank_column"], "article_id"])
        .head(k)
    )
    if len(popular) < k:
        raise ValueError(
            f"the fallback list ({params['fallback_rank_column']}) has {len(popular)} articles "
            f"in week {week}, fewer than k={k}"
        )
    fallback = customers[["customer_id"]].merge(popular[["article_id"]], how="cross")
    fallback["rank"] = FALLBACK_RANK_OFFSET + fallback.groupby("customer_id").cumcount()
    combined = pd.concat([ranked[["customer_id", "article_id", "rank"]], fallback])
    combined = combined.sort_values(["customer_id", "rank"]).drop_duplicates(
        ["customer_id", "article_id"]
    )
    combined = combined[combined.groupby("customer_id").cumcount() < k]
    n_short = int(
        (ranked.groupby("customer_id").size().reindex(customers["customer_id"]).fillna(0) < k).sum()
    )
    logger.info(
        "Recommendations: %d customers, %d of them completed from the popularity fallback "
        "(champion v%s)",
        customers["customer_id"].nunique(),
        n_short,
        champion_model.version,
    )
    submission = (
        combined.groupby("customer_id", sort=False)["article_id"]
        .agg(" ".join)
        .rename("prediction")
        .reset_index()
    )
    return customers[["customer_id"]].drop_duplicates().merge(submission, on="customer_id")

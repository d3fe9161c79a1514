"""Compare every recommender on the held-out test week (week 1), in one table and one plot.

Two MAP@12 conventions: ``map_at_12_buyers`` averages over the customers who bought that week:
the Kaggle leaderboard's number (Kaggle does not score customers without a purchase in the
week). ``map_at_12_all_customers`` divides the same sum by every customer, non-buyers scoring
0 (not Kaggle's: it moves with the share of buyers). Both are reported for the segment "all";
the history segments use the buyers' mean (a non-buyer has no history segment). With a sample
of the test week's buyers (customer_weeks' ``buyer_share`` below 1: ranking_sql's
``test_sample_per_million`` and ``max_test_buyers``) every figure is on that sample (column
``test_buyer_share``), and the all-customers mean divides by the same share of customers.
Without an oracle (real data) there is no oracle row and no ``fraction_of_oracle``.
"""

import logging
from typing import Any

import lightgbm as lgb
import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

from recommender_ranking.pipelines.candidate_generation.nodes import require_columns

from .metrics import average_precision, rank_by_score

matplotlib.use("Agg")
logger = logging.getLogger(__name__)

BASELINE = "popularity"


def score_test_week(
    ranker: lgb.LGBMRanker,
    backtest_ranker: lgb.LGBMRanker,
    ranking_features: pd.DataFrame,
    ranker_hyperparameters: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """The ranker's score for every candidate of the test week (``score``), and the score of
    the same ranker refit one week back (``score_refit``, model_training/refit.py)."""
    test = ranking_features[ranking_features["week"] == params["test_week"]]
    columns = ranker_hyperparameters["feature_columns"]
    require_columns(test, columns, "ranking_features (test week)")
    kept = ["week", "customer_id", "article_id", "has_history"]
    kept += [c for c in test.columns if c.startswith("rank_")]
    scores = test[kept].assign(score=ranker.predict(test[columns]))
    if params.get("refit_weeks"):
        scores["score_refit"] = backtest_ranker.predict(test[columns])
    return scores


def _recommendations(
    test_scores: pd.DataFrame, oracle_recommendations: pd.DataFrame, k: int, week: int
) -> dict[str, pd.DataFrame]:
    """Each recommender's top k per customer: week, customer_id, article_id, rank."""
    sources = [c.removeprefix("rank_") for c in test_scores.columns if c.startswith("rank_")]
    recommenders = {}
    for source in sources:
        proposed = test_scores.dropna(subset=f"rank_{source}")
        recommenders[f"source:{source}"] = rank_by_score(
            proposed.assign(score=-proposed[f"rank_{source}"]), k
        )
    recommenders[f"baseline:{BASELINE}"] = recommenders.pop(f"source:{BASELINE}")
    recommenders["ranker"] = rank_by_score(test_scores, k)
    if "score_refit" in test_scores:  # the back-test of the refit: what scores week 0
        recommenders["ranker:refit"] = rank_by_score(
            test_scores.assign(score=test_scores["score_refit"]), k
        )
    require_columns(oracle_recommendations, ["customer_id", "article_id", "rank"], "oracle")
    if len(oracle_recommendations):  # empty on real data: no oracle file
        recommenders["oracle"] = oracle_recommendations.assign(week=week)
    return recommenders


def evaluate_recommenders(
    test_scores: pd.DataFrame,
    week_purchases: pd.DataFrame,
    customer_weeks: pd.DataFrame,
    customers: pd.DataFrame,
    oracle_recommendations: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """MAP@k and recall@k of every recommender, overall and by purchase history
    (``customers``: every customer, the denominator of the all-customers mean)."""
    k, week = params["k"], params["test_week"]
    bought = week_purchases[week_purchases["week"] == week]
    if bought.empty:
        raise ValueError(f"week_purchases has no purchase in the test week {week}")
    require_columns(
        customer_weeks, ["week", "customer_id", "has_history", "buyer_share"], "customer_weeks"
    )
    tested = customer_weeks[customer_weeks["week"] == week]
    segments = tested[["customer_id", "has_history"]]
    share = float(tested["buyer_share"].iloc[0])
    n_all_customers = int(customers["customer_id"].nunique()) * share  # the sampled share
    if share < 1:
        logger.info("Test week scored on a sample of %.1f%% of its buyers", 100 * share)
    rows = []
    for name, recommendations in _recommendations(
        test_scores, oracle_recommendations, k, week
    ).items():
        per_buyer = average_precision(recommendations, bought, k).merge(segments, on="customer_id")
        for segment, selected in {
            "all": per_buyer,
            "with_history": per_buyer[per_buyer["has_history"]],
            "without_history": per_buyer[~per_buyer["has_history"]],
        }.items():
            rows.append(
                {
                    "recommender": name,
                    "segment": segment,
                    "buyers": len(selected),
                    "test_buyer_share": share,
                    f"map_at_{k}_buyers": selected["ap"].mean() if len(selected) else float("nan"),
                    f"map_at_{k}_all_customers": (
                        per_buyer["ap"].sum() / n_all_customers if segment == "all" else None
                    ),
                    f"recall_at_{k}": selected["recall"].mean() if len(selected) else float("nan"),
                }
            )
    table = pd.DataFrame(rows)
    metric = f"map_at_{k}_buyers"
    oracle = table[table["recommender"] == "oracle"].set_index("segment")[metric]
    if len(oracle):
        table["fraction_of_oracle"] = table[metric] / table["segment"].map(oracle)
    logger.info(
        "Test-week evaluation (%s is Kaggle's leaderboard MAP):\n%s",
        metric,
        table.to_string(index=False),
    )
    metrics = {
        f"{row['recommender'].replace(':', '.')}.{row['segment']}.{column}": {
            "value": float(row[column]),
            "step": 0,
        }
        for row in table.to_dict("records")
        for column in (metric, f"recall_at_{k}")
        if pd.notna(row[column])
    }
    return table, metrics


def evaluation_plot(evaluation_table: pd.DataFrame, params: dict[str, Any]) -> plt.Figure:
    """MAP@k (buyers) and recall@k of every recommender, side by side, per segment."""
    k = params["k"]
    figure, axes = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    for axis, metric in zip(axes, [f"map_at_{k}_buyers", f"recall_at_{k}"], strict=True):
        pivot = evaluation_table.pivot_table(
            index="recommender", columns="segment", values=metric, aggfunc="first"
        )
        pivot.plot.barh(ax=axis)
        kaggle = " (Kaggle's MAP)" if metric.startswith("map") else ""
        axis.set_title(f"{metric}{kaggle} on the test week")
        axis.set_xlabel(metric)
    return figure

"""The ranker as one MLflow pyfunc model, and the quality gate that moves the alias.

The registered model is the ranker refit on the latest labelled weeks (model_training/refit.py);
the gate judges it by its back-test ("ranker:refit": the same refit one week back, scored on the
test week). It compares with the current champion on this run's test week (both score the same
candidate rows), so a champion trained on other data is judged on today's; a champion trained
on the test week itself (``trained_before`` in its MLflow metadata) is not compared.
"""

import logging
from typing import Any

import lightgbm as lgb
import pandas as pd

from recommender_ranking.datasets.mlflow_model_alias_dataset import RegisteredModel
from recommender_ranking.pipelines.model_evaluation.metrics import map_at_k, rank_by_score
from recommender_ranking.scoring_model import RankingModel  # champions pickled it from here

logger = logging.getLogger(__name__)

INPUT_EXAMPLE_ROWS = 5


def shipped_ranker(metrics: dict[str, Any]) -> str:
    """The evaluation row of the registered model: the refit's back-test when there is one."""
    return "ranker:refit" if "ranker:refit" in metrics else "ranker"


def week_start(week_calendar: pd.DataFrame, week: int) -> str:
    """The first day of ``week`` (its cutoff), as YYYY-MM-DD."""
    return str(pd.Timestamp(week_calendar.set_index("week")["cutoff"][week]).date())


def trained_before(week_calendar: pd.DataFrame, params: dict[str, Any]) -> str:
    """The first day the registered model never trained on: week 0's cutoff after a refit
    (the test week trained it), else the test week's."""
    week = params["test_week"] - 1 if params.get("refit_weeks") else params["test_week"]
    return week_start(week_calendar, week)


def package_model(
    ranker: lgb.LGBMRanker,
    ranker_hyperparameters: dict[str, Any],
    ranking_features: pd.DataFrame,
    evaluation_table: pd.DataFrame,
    week_calendar: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pyfunc model (``ranker``: the refit one) with an input example (its signature) and
    its MLflow metadata, and the model card."""
    columns = ranker_hyperparameters["feature_columns"]
    test = ranking_features[ranking_features["week"] == params["test_week"]]
    input_example = test[columns].head(INPUT_EXAMPLE_ROWS).astype("float64")
    metric = f"map_at_{params['k']}_buyers"
    overall = evaluation_table[evaluation_table["segment"] == "all"].set_index("recommender")
    model_card = {
        "feature_columns": columns,
        "hyperparameters": ranker_hyperparameters,
        "test_week": params["test_week"],
        "test_metrics": {
            name: {m: float(v) for m, v in row.items() if pd.notna(v) and m != "segment"}
            for name, row in overall.drop(columns="buyers").to_dict("index").items()
        },
        "metric": metric,
        "refit_weeks": int(params.get("refit_weeks") or 0),
        "trained_before": trained_before(week_calendar, params),
    }
    model = RankingModel(ranker, columns)
    metadata = {"trained_before": model_card["trained_before"]}
    return {"python_model": model, "input_example": input_example, "metadata": metadata}, (
        model_card
    )


def score_current_champion(
    current_champion: RegisteredModel | None,
    ranking_features: pd.DataFrame,
    week_purchases: pd.DataFrame,
    week_calendar: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, Any]:
    """MAP@k of the current champion on this run's test week (None when there is none, when it
    trained on that week, or when it cannot score these rows, e.g. it needs a feature this run
    no longer builds)."""
    if current_champion is None:
        return {"version": None, "map_at_k": None, "reason": "no champion yet"}
    seen_until = (current_champion.model.metadata.metadata or {}).get("trained_before")
    test_start = week_start(week_calendar, params["test_week"])
    if seen_until and seen_until > test_start:
        logger.warning(
            "Champion v%s trained on data until %s, after this run's test week starts (%s): "
            "not compared",
            current_champion.version,
            seen_until,
            test_start,
        )
        return {
            "version": current_champion.version,
            "map_at_k": None,
            "reason": f"trained on the test week (data before {seen_until})",
        }
    test = ranking_features[ranking_features["week"] == params["test_week"]]
    columns = current_champion.model.metadata.get_input_schema().input_names()
    missing = sorted(set(columns) - set(test.columns))
    if missing:
        logger.warning(
            "Champion v%s needs columns %s: not compared", current_champion.version, missing
        )
        return {
            "version": current_champion.version,
            "map_at_k": None,
            "reason": f"missing {missing}",
        }
    scores = current_champion.model.predict(test[columns].astype("float64"))
    scored = test[["week", "customer_id", "article_id"]].assign(score=scores["score"].to_numpy())
    bought = week_purchases[week_purchases["week"] == params["test_week"]]
    value = map_at_k(rank_by_score(scored, params["k"]), bought, params["k"])
    logger.info(
        "Champion v%s on this run's test week: MAP@%d %.5f",
        current_champion.version,
        params["k"],
        value,
    )
    return {"version": current_champion.version, "map_at_k": value, "reason": "scored"}


def decide_promotion(
    model_card: dict[str, Any], champion_score: dict[str, Any], quality_gate: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Promote when the ranker beats the strongest single candidate source (the best
    ``source:*`` or ``baseline:*`` row of the evaluation) by ``min_ratio_to_best_source`` and
    is not worse than the current champion (minus ``champion_tolerance``) on the same rows.
    Beating popularity alone says little: repurchase alone is several times popularity.

    Returns the decision twice: for the alias dataset (which acts on it) and for the report.
    """
    metric = model_card["metric"]
    metrics = model_card["test_metrics"]
    ranker = metrics[shipped_ranker(metrics)][metric]
    best_source, best = strongest_source(metrics, metric)
    ratio = ranker / best if best else float("inf")
    checks = {
        "ratio_to_best_source": {
            "value": ratio,
            "threshold": quality_gate["min_ratio_to_best_source"],
            "passed": ratio >= quality_gate["min_ratio_to_best_source"],
            "best_source": best_source,
        },
    }
    if champion_score["map_at_k"] is not None:
        checks["not_worse_than_champion"] = {
            "value": ranker - champion_score["map_at_k"],
            "threshold": -quality_gate["champion_tolerance"],
            "passed": ranker - champion_score["map_at_k"] >= -quality_gate["champion_tolerance"],
            "champion_version": champion_score["version"],
        }
    failed = [name for name, check in checks.items() if not check["passed"]]
    decision = {
        "promote": not failed,
        "checks": checks,
        "failed_checks": failed,
        "champion": champion_score,
        metric: ranker,
    }
    logger.info("Quality gate: %s", "passed" if not failed else f"failed on {failed}")
    return decision, decision


def strongest_source(metrics: dict[str, dict[str, float]], metric: str) -> tuple[str, float]:
    """The single candidate source (``source:*``, ``baseline:*``) with the highest ``metric``."""
    sources = {
        name: values[metric]
        for name, values in metrics.items()
        if name.startswith(("source:", "baseline:")) and metric in values
    }
    if not sources:
        raise ValueError(
            f"model_card test_metrics has no source:* or baseline:* row with {metric}; "
            f"it has {sorted(metrics)}"
        )
    name = max(sorted(sources), key=sources.get)
    return name, sources[name]

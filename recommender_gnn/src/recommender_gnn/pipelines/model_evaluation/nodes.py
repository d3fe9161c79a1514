"""Every model's test predictions against the test labels: one table, one plot, MLflow metrics,
and the same metrics by session length."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns
from recommender_gnn.model_selection.bootstrap import paired_bootstrap
from recommender_gnn.model_selection.metrics import (
    EVENT_TYPES,
    LENGTH_BUCKETS,
    METRICS,
    check_predictions,
    event_type_codes,
    length_bucket,
    session_scores,
    summarise,
)
from recommender_gnn.sorting import lexsort, positions

logger = logging.getLogger(__name__)
FRACTION_OF_ORACLE = ("recall_clicks", "mrr_clicks", "score")


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray):
    """(values of queries, found) by binary search in the sorted keys."""
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    if keys.size == 0:
        return np.zeros(queries.size, values.dtype), np.zeros(queries.size, bool)
    position = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return values[position], keys[position] == queries


def oracle_predictions(
    oracle_next_items: pd.DataFrame, item_map: pd.DataFrame, session_map: pd.DataFrame
) -> pd.DataFrame:
    """The generator's knowledge as predictions (exact for the next click; see
    data_generation). Empty on real data, which has no oracle. Lookups by binary search, not
    merges: at OTTO's size the oracle lists 62 M (session, type, aid) rows."""
    require_columns(
        oracle_next_items, ["session", "event_type", "aid", "probability"], "oracle_next_items"
    )
    test_map = session_map[session_map["source"] == "test"]
    session, session_found = _lookup(
        test_map["original_session"].to_numpy(np.int64),
        test_map["session"].to_numpy(np.int64),
        oracle_next_items["session"].to_numpy(np.int64),
    )
    item, item_found = _lookup(
        item_map["aid"].to_numpy(np.int64),
        item_map["item"].to_numpy(np.int64),
        oracle_next_items["aid"].to_numpy(np.int64),
    )
    keep = session_found & item_found
    session, item = session[keep], item[keep]
    code = event_type_codes(oracle_next_items["event_type"])[keep]
    probability = oracle_next_items["probability"].to_numpy(dtype=float)[keep]
    order = lexsort((item, -probability, code, session))
    session, code, item, probability = (a[order] for a in (session, code, item, probability))
    rank = positions(session * len(EVENT_TYPES) + code) + 1
    top = rank <= 20
    return pd.DataFrame(
        {
            "session": session[top],
            "event_type": pd.Categorical.from_codes(code[top], EVENT_TYPES),
            "item": item[top],
            "rank": rank[top],
            "score": probability[top],
        }
    )


def evaluate_models(
    test_labels: pd.DataFrame,
    test_sessions: pd.DataFrame,
    bootstrap: dict | None = None,
    reference: str | None = None,
    **predictions: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(metrics per model, metrics per model and session length, MLflow metrics).

    ``predictions`` maps a model name to its ``<model>_predictions``; a model with no
    predictions (the oracle on real data) is left out with a log line. With no labels (the
    real test week without test_labels.jsonl) both tables are empty. With ``bootstrap``
    (resamples, seed, confidence) every metric gets a paired 95% interval over sessions, and
    with ``reference`` each model's score difference to that model gets one too.
    """
    intervals = [f"{m}_ci_{end}" for m in METRICS for end in ("low", "high")]
    differences = ["score_diff", "score_diff_ci_low", "score_diff_ci_high"] if reference else []
    columns = [
        "model",
        *METRICS,
        *(f"{m}_vs_oracle" for m in FRACTION_OF_ORACLE),
        "sessions",
        *(intervals if bootstrap else []),
        *(differences if bootstrap else []),
    ]
    if test_labels.empty:
        logger.warning("test_labels is empty (no test_labels.jsonl): no test metrics")
        return (
            pd.DataFrame(columns=columns),
            pd.DataFrame(columns=["model", "length", *METRICS]),
            {},
        )
    lengths = length_bucket(test_sessions.groupby("session").size()).rename("length")
    rows, by_length, all_scores = [], [], {}
    for model, model_predictions in predictions.items():
        if model_predictions.empty:
            logger.info("%s_predictions is empty: %s is left out of the evaluation", model, model)
            continue
        check_predictions(model_predictions, f"{model}_predictions")
        scores = session_scores(model_predictions, test_labels)
        all_scores[model] = scores
        rows.append({"model": model, **summarise(scores), "sessions": scores["session"].nunique()})
        scores = scores.join(lengths, on="session")
        for bucket in LENGTH_BUCKETS:
            part = scores[scores["length"] == bucket]
            if len(part):
                by_length.append(
                    {
                        "model": model,
                        "length": bucket,
                        **summarise(part),
                        "sessions": part["session"].nunique(),
                    }
                )
    table = pd.DataFrame(rows)
    # The oracle ranks by the true probabilities (exact for the next click, Monte Carlo over
    # the true continuation for carts and orders), which maximises the expected metrics:
    # models are shown as a fraction of it.
    oracle = table[table["model"] == "oracle"]
    for metric in FRACTION_OF_ORACLE:
        table[f"{metric}_vs_oracle"] = (
            table[metric] / oracle[metric].iloc[0] if len(oracle) else np.nan
        )
    if bootstrap:
        intervals_table = paired_bootstrap(
            all_scores,
            int(bootstrap["resamples"]),
            int(bootstrap["seed"]),
            reference=reference if reference in all_scores else None,
            confidence=float(bootstrap.get("confidence", 0.95)),
        ).drop(columns=METRICS)
        table = table.merge(intervals_table, on="model", how="left")
        table = table.reindex(columns=[c for c in columns if c in table.columns] or columns)
    mlflow_metrics = {
        f"{row['model']}.{metric}": {"value": float(row[metric]), "step": 0}
        for row in table.to_dict("records")
        for metric in METRICS
        if not np.isnan(row[metric])
    }
    return table.reindex(columns=columns), pd.DataFrame(by_length), mlflow_metrics


def evaluate_validation(
    valid_labels: pd.DataFrame,
    valid_sessions: pd.DataFrame,
    params: dict,
    **predictions: pd.DataFrame,
) -> tuple[pd.DataFrame, dict]:
    """(validation metrics with intervals, the selection report).

    The strongest baseline is the baseline with the best validation score; the test table
    and the gate compare against it, so no choice ever looks at the test week.
    """
    baselines = [m for m in params["baselines"] if m in predictions]
    table, _, _ = evaluate_models(valid_labels, valid_sessions, None, None, **predictions)
    if table.empty:
        raise ValueError("valid_labels is empty: the validation split has no labels to choose by")
    scores = table.set_index("model")["score"]
    strongest = str(scores[baselines].idxmax())
    table, _, _ = evaluate_models(
        valid_labels, valid_sessions, params["bootstrap"], strongest, **predictions
    )
    report = {
        "strongest_baseline": strongest,
        "valid_scores": {m: float(v) for m, v in scores.items()},
    }
    logger.info("validation: strongest baseline %s (%.4f)", strongest, scores[strongest])
    return table, report


def evaluate_test(
    test_labels: pd.DataFrame,
    test_sessions: pd.DataFrame,
    params: dict,
    selection_report: dict,
    **predictions: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The test table, intervals and differences against the baseline validation chose."""
    return evaluate_models(
        test_labels,
        test_sessions,
        params["bootstrap"],
        selection_report["strongest_baseline"],
        **predictions,
    )


def gate_submission(selection_report: dict, params: dict) -> dict:
    """The gate's decision, from validation alone: the candidate model is submitted only if its
    validation score beats the strongest baseline's by ``min_uplift_over_best_baseline``;
    else that baseline, so a weaker candidate is never what gets submitted. Decided before
    the test week is predicted, so only the submitted model needs test predictions."""
    candidate, strongest = params["model"], selection_report["strongest_baseline"]
    scores = selection_report["valid_scores"]
    if candidate not in scores:
        raise ValueError(
            f"params submission.model is {candidate!r}: expected one of {sorted(scores)}"
        )
    uplift = scores[candidate] - scores[strongest]
    passed = bool(uplift >= float(params["min_uplift_over_best_baseline"]))
    submitted = candidate if passed else strongest
    log = logger.info if passed else logger.warning
    log(
        "submission gate %s: %s %.4f vs %s %.4f on validation; submitting %s",
        "passed" if passed else "FAILED",
        candidate,
        scores[candidate],
        strongest,
        scores[strongest],
        submitted,
    )
    return {
        "candidate": candidate,
        "strongest_baseline": strongest,
        "valid_score_candidate": scores[candidate],
        "valid_score_strongest_baseline": scores[strongest],
        "uplift": uplift,
        "min_uplift_over_best_baseline": float(params["min_uplift_over_best_baseline"]),
        "passed": passed,
        "submitted_model": submitted,
    }


def evaluation_plot(metrics: pd.DataFrame, metrics_by_length: pd.DataFrame) -> plt.Figure:
    """Left: the five metrics per model; right: the OTTO score by session length."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    if metrics.empty:
        left.text(0.5, 0.5, "no test labels", ha="center")
        return figure
    models = metrics["model"].tolist()
    width = 0.8 / len(models)
    bars_at = np.arange(len(METRICS))
    for index, row in enumerate(metrics.to_dict("records")):
        left.bar(bars_at + index * width, [row[m] for m in METRICS], width, label=row["model"])
    left.set_xticks(bars_at + width * (len(models) - 1) / 2, METRICS)
    left.set_ylabel("test value (@20)")
    left.legend()
    pivot = metrics_by_length.pivot_table(index="length", columns="model", values="score")
    pivot = pivot.reindex(index=[b for b in LENGTH_BUCKETS if b in pivot.index], columns=models)
    pivot.plot.bar(ax=right, rot=0)
    right.set_xlabel("events in the session prefix")
    right.set_ylabel("OTTO score")
    figure.tight_layout()
    return figure

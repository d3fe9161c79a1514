"""OTTO's ``submission.csv`` (``session_type,labels``) from one model's test predictions, and
the format check Kaggle would apply: three rows per test session, up to 20 distinct aids."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from recommender_gnn.checks import require_columns

logger = logging.getLogger(__name__)
EVENT_TYPES = ["clicks", "carts", "orders"]
SESSION_TYPE = re.compile(r"^(\d+)_(clicks|carts|orders)$")


def gate_submission(
    selection_report: dict,
    params: dict,
    **predictions: pd.DataFrame,
) -> tuple[pd.DataFrame, dict]:
    """(the predictions to submit, the decision): the candidate model only if its validation
    score beats the strongest baseline's by ``min_uplift_over_best_baseline``; else that
    baseline, so a weaker candidate is never what gets submitted."""
    candidate, strongest = params["model"], selection_report["strongest_baseline"]
    scores = selection_report["valid_scores"]
    if candidate not in scores or candidate not in predictions:
        raise ValueError(
            f"params submission.model is {candidate!r}: expected one of {sorted(predictions)}"
        )
    uplift = scores[candidate] - scores[strongest]
    passed = bool(uplift >= float(params["min_uplift_over_best_baseline"]))
    submitted = candidate if passed else strongest
    decision = {
        "candidate": candidate,
        "strongest_baseline": strongest,
        "valid_score_candidate": scores[candidate],
        "valid_score_strongest_baseline": scores[strongest],
        "uplift": uplift,
        "min_uplift_over_best_baseline": float(params["min_uplift_over_best_baseline"]),
        "passed": passed,
        "submitted_model": submitted,
    }
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
    return predictions[submitted], decision


def submit(
    selection_report: dict,
    params: dict,
    popular_items: pd.DataFrame,
    item_map: pd.DataFrame,
    session_map: pd.DataFrame,
    **predictions: pd.DataFrame,
) -> tuple[pd.DataFrame, dict]:
    """(the unchecked submission, the gate's decision) from the model the gate lets through."""
    chosen, decision = gate_submission(selection_report, params, **predictions)
    return build_submission(chosen, popular_items, item_map, session_map), decision


def build_submission(
    predictions: pd.DataFrame,
    popular_items: pd.DataFrame,
    item_map: pd.DataFrame,
    session_map: pd.DataFrame,
    top_k: int = 20,
) -> pd.DataFrame:
    """Decode to original session ids and aids; sessions the model skipped get popular items."""
    require_columns(
        predictions, ["session", "event_type", "item", "rank"], "submission predictions"
    )
    test_map = session_map[session_map["source"] == "test"]
    sessions = pd.DataFrame({"session": test_map["session"].to_numpy()})
    grid = sessions.merge(pd.DataFrame({"event_type": EVENT_TYPES}), how="cross")
    present = predictions[["session", "event_type"]].drop_duplicates()
    present = present.astype({"session": "int64", "event_type": str})
    covered = grid.merge(present, how="left", indicator=True)
    missing = covered[covered["_merge"] == "left_only"][["session", "event_type"]]
    if len(missing):
        logger.warning(
            "%d session/type pairs had no prediction: filled with popular items", len(missing)
        )
    popular = popular_items[["event_type", "item", "rank"]].astype({"event_type": str})
    fill = missing.merge(popular, on="event_type")
    chosen = pd.concat([predictions[["session", "event_type", "item", "rank"]], fill])
    chosen["event_type"] = chosen["event_type"].astype(str)
    chosen = chosen.sort_values(["session", "event_type", "rank"]).drop_duplicates(
        ["session", "event_type", "item"]
    )
    chosen = chosen.groupby(["session", "event_type"]).head(top_k)
    aid_of = pd.Series(item_map["aid"].to_numpy(), index=item_map["item"].to_numpy())
    original_of = pd.Series(
        test_map["original_session"].to_numpy(), index=test_map["session"].to_numpy()
    )
    chosen = chosen.assign(
        aid=aid_of.reindex(chosen["item"]).to_numpy().astype(str),
        original=original_of.reindex(chosen["session"]).to_numpy(),
    )
    labels = (
        chosen.groupby(["original", "event_type"], sort=True)["aid"].agg(" ".join).reset_index()
    )
    return pd.DataFrame(
        {
            "session_type": labels["original"].astype(np.int64).astype(str)
            + "_"
            + labels["event_type"],
            "labels": labels["aid"],
        }
    )


def check_submission(
    submission: pd.DataFrame, session_map: pd.DataFrame, top_k: int = 20
) -> pd.DataFrame:
    """Return the submission unchanged, or raise naming the row, the field and the rule."""
    if list(submission.columns) != ["session_type", "labels"]:
        raise ValueError(
            f"submission columns are {list(submission.columns)}: "
            "expected ['session_type', 'labels']"
        )
    for row, (session_type, labels) in enumerate(submission.itertuples(index=False), start=2):
        if not SESSION_TYPE.match(str(session_type)):
            raise ValueError(
                f"submission line {row}, field 'session_type': {session_type!r} is not "
                "'<session>_clicks|carts|orders'"
            )
        aids = str(labels).split() if isinstance(labels, str) else []
        if not all(aid.isdigit() for aid in aids):
            raise ValueError(
                f"submission line {row}, field 'labels': {labels!r} is not space-separated aids"
            )
        if len(aids) > top_k:
            raise ValueError(
                f"submission line {row}, field 'labels': {len(aids)} aids, at most {top_k} allowed"
            )
        if len(set(aids)) != len(aids):
            raise ValueError(
                f"submission line {row}, field 'labels': an aid appears twice in {labels!r}"
            )
    duplicated = submission["session_type"].duplicated()
    if duplicated.any():
        raise ValueError(
            f"submission: session_type {submission['session_type'][duplicated].iloc[0]!r} "
            "appears twice"
        )
    expected = {
        f"{session}_{event_type}"
        for session in session_map.loc[session_map["source"] == "test", "original_session"]
        for event_type in EVENT_TYPES
    }
    absent = expected - set(submission["session_type"])
    if absent:
        raise ValueError(
            f"submission lacks {len(absent)} of {len(expected)} rows (e.g. {sorted(absent)[0]}): "
            "every test session needs its clicks, carts and orders rows"
        )
    extra = set(submission["session_type"]) - expected
    if extra:
        raise ValueError(
            f"submission has rows of sessions not in test.jsonl (e.g. {sorted(extra)[0]})"
        )
    return submission

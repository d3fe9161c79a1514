"""OTTO's ``submission.csv`` (``session_type,labels``) from one model's test predictions, and
the format check Kaggle would apply: three rows per test session, up to 20 distinct aids.

Both run on Arrow arrays, not row by row: OTTO's test week is 1.67 M sessions (5 M rows, 100 M
aids), where a Python loop or a string per predicted item takes minutes and gigabytes.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recommender_gnn.checks import require_columns
from recommender_gnn.model_selection.metrics import event_type_codes
from recommender_gnn.sorting import lexsort, positions

logger = logging.getLogger(__name__)
EVENT_TYPES = ["clicks", "carts", "orders"]
SESSION_TYPE = r"^\d+_(clicks|carts|orders)$"


def submit(
    decision: dict,
    popular_items: pd.DataFrame,
    item_map: pd.DataFrame,
    session_map: pd.DataFrame,
    **predictions: pd.DataFrame,
) -> pd.DataFrame:
    """The unchecked submission from the test predictions of the model the gate let through."""
    submitted = decision["submitted_model"]
    chosen = predictions.get(submitted)
    if chosen is None or chosen.empty:
        raise ValueError(
            f"{submitted}_predictions is empty or missing: the gate submits {submitted}, "
            "whose test predictions model_selection.test_week_models should have kept"
        )
    return build_submission(chosen, popular_items, item_map, session_map)


def _lookup(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A dense array ``table[key] = value`` (canonical ids are small non-negative ints)."""
    table = np.full(int(keys.max()) + 1 if keys.size else 0, -1, dtype=np.int64)
    table[keys] = values
    return table


def _runs(session: np.ndarray) -> np.ndarray:
    """Start index of each run of equal values in a sorted array."""
    return np.flatnonzero(np.r_[True, session[1:] != session[:-1]]) if session.size else session


def _one_type_lists(
    session: np.ndarray,
    item: np.ndarray,
    rank: np.ndarray,
    test_sessions: np.ndarray,
    popular: np.ndarray,
    top_k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(session, item) of one event type, sorted by session then rank: the first ``top_k``
    distinct items; a test session without a prediction gets the popular items. Sorts, no
    hash tables: OTTO's test week has 47 M rows per event type."""
    by_item = lexsort((rank, item, session))
    s, i = session[by_item], item[by_item]
    first = np.ones(s.size, dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (i[1:] != i[:-1])  # an item's best rank in its session
    kept = by_item[first]
    kept = kept[lexsort((kept, rank[kept], session[kept]))]  # equal ranks: input order
    session, item = session[kept], item[kept]
    top = positions(session) < top_k
    session, item = session[top], item[top]
    missing = np.setdiff1d(test_sessions, session, assume_unique=False)
    if missing.size:
        logger.warning(
            "%d session/type pairs had no prediction: filled with popular items", missing.size
        )
    popular = popular[:top_k]
    session = np.concatenate([session, np.repeat(missing, popular.size).astype(session.dtype)])
    item = np.concatenate([item, np.tile(popular, missing.size).astype(item.dtype)])
    order = np.argsort(session, kind="stable")
    return session[order], item[order]


def build_submission(
    predictions: pd.DataFrame,
    popular_items: pd.DataFrame,
    item_map: pd.DataFrame,
    session_map: pd.DataFrame,
    top_k: int = 20,
) -> pd.DataFrame:
    """Decode to original session ids and aids; sessions the model skipped get popular items.
    Rows sorted by original session, then event type (as OTTO's sample submission)."""
    require_columns(
        predictions, ["session", "event_type", "item", "rank"], "submission predictions"
    )
    test_map = session_map[session_map["source"] == "test"]
    test_sessions = np.unique(test_map["session"].to_numpy(dtype=np.int64))
    aid_of = _lookup(item_map["item"].to_numpy(dtype=np.int64), item_map["aid"].to_numpy())
    original_of = _lookup(
        test_map["session"].to_numpy(dtype=np.int64), test_map["original_session"].to_numpy()
    )
    popular_types = np.asarray(popular_items["event_type"].astype(str))
    types = event_type_codes(predictions["event_type"])
    columns = [predictions[c].to_numpy() for c in ("session", "item", "rank")]
    originals, type_codes, labels = [], [], []
    for code, event_type in enumerate(sorted(EVENT_TYPES)):
        mask = types == EVENT_TYPES.index(event_type)
        popular = popular_items[popular_types == event_type].sort_values("rank")
        session, item = _one_type_lists(
            *(column[mask] for column in columns),
            test_sessions,
            popular["item"].to_numpy(),
            top_k,
        )
        starts = _runs(session)
        offsets = np.r_[starts, session.size].astype(np.int32)
        aids = pc.cast(pa.array(aid_of[item]), pa.string())
        labels.append(pc.binary_join(pa.ListArray.from_arrays(offsets, aids), " "))
        originals.append(original_of[session[starts]])
        type_codes.append(np.full(starts.size, code, dtype=np.int8))
    original, type_code = np.concatenate(originals), np.concatenate(type_codes)
    order = pa.array(lexsort((type_code, original)))
    type_names = pa.array(np.asarray(sorted(EVENT_TYPES), dtype=object)[type_code])
    session_type = pc.binary_join_element_wise(
        pc.cast(pa.array(original), pa.string()), type_names, "_"
    )
    return pd.DataFrame(
        {
            "session_type": session_type.take(order).to_numpy(zero_copy_only=False),
            "labels": pa.concat_arrays(labels).take(order).to_numpy(zero_copy_only=False),
        }
    )


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _label_faults(labels: pa.Array, top_k: int) -> dict[int, str]:
    """{row: what is wrong} for the first row breaking each rule of the ``labels`` field, in
    the rules' order within a row. Only the rows before the first fault are searched for a
    repeated aid, so only valid aids are ever parsed."""
    faults = {}
    spaced = pc.match_substring_regex(labels, r"^\s*(\d{1,18}\s+)*(\d{1,18})?\s*$")
    # An empty list reads back from the CSV as missing: allowed.
    row = _first(~pc.fill_null(spaced, True).to_numpy(zero_copy_only=False))
    if row is not None:
        faults[row] = f"{labels[row].as_py()!r} is not space-separated aids"
    tokens = pc.utf8_split_whitespace(labels.slice(0, len(labels) if row is None else row))
    counts = pc.fill_null(pc.list_value_length(tokens), 0).to_numpy()
    row = _first(counts > top_k)
    if row is not None:
        faults.setdefault(row, f"{counts[row]} aids, at most {top_k} allowed")
    row = _repeated_row(
        pc.list_parent_indices(tokens).to_numpy(),
        pc.cast(pc.list_flatten(tokens), pa.int64()).to_numpy(),
    )
    if row is not None:
        faults.setdefault(row, f"an aid appears twice in {labels[row].as_py()!r}")
    return faults


def _repeated_row(row: np.ndarray, aid: np.ndarray) -> int | None:
    """The first row holding an aid twice."""
    if aid.size == 0:
        return None
    if aid.max() < 2**31:  # one sorted int64 key per (row, aid): 141 M aids at OTTO's size
        keys = row.astype(np.int64)
        keys *= 2**31
        keys += aid
        keys.sort()
        repeated = keys[1:] == keys[:-1]
        return int(keys[1:][repeated].min() // 2**31) if repeated.any() else None
    order = lexsort((aid, row))
    row, aid = row[order], aid[order]
    repeated = (row[1:] == row[:-1]) & (aid[1:] == aid[:-1])
    return int(row[1:][repeated].min()) if repeated.any() else None


def check_submission(
    submission: pd.DataFrame, session_map: pd.DataFrame, top_k: int = 20
) -> pd.DataFrame:
    """Return the submission unchanged, or raise naming the row, the field and the rule."""
    if list(submission.columns) != ["session_type", "labels"]:
        raise ValueError(
            f"submission columns are {list(submission.columns)}: "
            "expected ['session_type', 'labels']"
        )
    session_types = pa.array(submission["session_type"].astype(str).to_numpy(), pa.string())
    try:
        labels = pa.array(submission["labels"], pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers (one aid a row, read from a CSV)
        labels = pa.array(submission["labels"].astype("string"), pa.string(), from_pandas=True)
    faults = _label_faults(labels, top_k)
    bad_type = _first(~pc.match_substring_regex(session_types, SESSION_TYPE).to_numpy(False))
    if bad_type is not None and (not faults or bad_type <= min(faults)):
        raise ValueError(
            f"submission line {bad_type + 2}, field 'session_type': "
            f"{session_types[bad_type].as_py()!r} is not '<session>_clicks|carts|orders'"
        )
    if faults:
        row = min(faults)
        raise ValueError(f"submission line {row + 2}, field 'labels': {faults[row]}")
    present = pd.Series(session_types.to_numpy(zero_copy_only=False))
    duplicated = present.duplicated().to_numpy()
    if duplicated.any():
        raise ValueError(f"submission: session_type {present[duplicated].iloc[0]!r} appears twice")
    originals = session_map.loc[session_map["source"] == "test", "original_session"].to_numpy()
    expected = pd.Index(
        pc.binary_join_element_wise(
            pc.cast(pa.array(np.repeat(originals, len(EVENT_TYPES))), pa.string()),
            pa.array(np.tile(np.asarray(EVENT_TYPES, dtype=object), originals.size)),
            "_",
        ).to_numpy(zero_copy_only=False)
    )
    absent = expected[~expected.isin(present)]
    if len(absent):
        raise ValueError(
            f"submission lacks {len(absent)} of {len(expected)} rows (e.g. {absent.min()}): "
            "every test session needs its clicks, carts and orders rows"
        )
    extra = present[~present.isin(expected)]
    if len(extra):
        raise ValueError(f"submission has rows of sessions not in test.jsonl (e.g. {extra.min()})")
    return submission

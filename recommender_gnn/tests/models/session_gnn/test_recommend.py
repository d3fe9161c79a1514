"""Candidates: blocked running top-k equals the full-matrix top-k, never a seen item, the
contract's format, and memory bounded by a block at a million items."""

import functools
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from recommender_gnn.models.session_gnn.evaluation import EVENT_TYPES
from recommender_gnn.models.session_gnn.graphs import SessionEvents
from recommender_gnn.models.session_gnn.recommend import (
    blocked_top_k,
    load_model,
    recommend_gnn,
)
from recommender_gnn.models.session_gnn.training import train_session_gnn
from tests.pipelines.session_data import (
    BLUEPRINT,
    N_ITEMS,
    item_map,
    tiny_split,
    trained_checkpoint,
    training_params,
)


def _full_matrix_top_k(vectors, tables, seen, k):
    """Reference: every score at once, seen items dropped, (score desc, item asc), first k."""
    n_types, n_rows, _ = vectors.shape
    items, scores = np.full((n_types, n_rows, k), -1), np.full((n_types, n_rows, k), -np.inf)
    for t in range(n_types):
        full = (vectors[t] @ tables[t].T).numpy()
        for row in range(n_rows):
            allowed = [i for i in range(full.shape[1]) if (row, i) not in seen]
            ranked = sorted(allowed, key=lambda i, r=row: (-full[r, i], i))[:k]
            items[t, row, : len(ranked)] = ranked
            scores[t, row, : len(ranked)] = full[row, ranked]
    return scores, items


@pytest.mark.parametrize("block_items", [1, 4, 7, 29, 1000])
def test_blocked_top_k_equals_the_full_matrix_top_k_with_ties(block_items):
    rng = np.random.default_rng(0)
    n_items, dim, k = 29, 3, 6
    # Small integers: exact float sums and many equal scores, so tie-breaking is tested.
    vectors = torch.tensor(rng.integers(-2, 3, (3, 5, dim)), dtype=torch.float32)
    tables = [torch.tensor(rng.integers(-1, 2, (n_items, dim)), dtype=torch.float32)] * 3
    seen = {(row, int(item)) for row in range(5) for item in rng.choice(n_items, 4, replace=False)}
    seen |= {(4, item) for item in range(n_items - 3)}  # row 4 has only 3 unseen items left
    keys = sorted((item, row) for row, item in seen)
    seen_item = torch.tensor([item for item, _ in keys])
    seen_row = torch.tensor([row for _, row in keys])
    scores, items = blocked_top_k(
        vectors, tables, seen_row, seen_item, torch.arange(n_items), k, block_items
    )
    expected_scores, expected_items = _full_matrix_top_k(vectors, tables, seen, k)
    finite = np.isfinite(expected_scores)
    assert np.array_equal(np.isfinite(scores.numpy()), finite)
    assert np.array_equal(items.numpy()[finite], expected_items[finite])
    assert np.array_equal(scores.numpy()[finite], expected_scores[finite])
    assert finite[:, 4].sum(1).tolist() == [3, 3, 3]  # fewer than k: the rest is left out


@pytest.fixture(scope="module")
def candidates():
    _, valid, _ = tiny_split()
    return recommend_gnn(valid, trained_checkpoint(), {"device": "cpu", "block_items": 13})


def test_candidates_follow_the_contract_and_never_hold_a_seen_item(candidates):
    _, valid, _ = tiny_split()
    assert list(candidates.columns) == ["session", "event_type", "item", "rank", "score"]
    assert candidates.dtypes.astype(str).tolist() == [
        "int32", "category", "int32", "int16", "float32"
    ]  # fmt: skip
    assert candidates["event_type"].cat.categories.tolist() == ["clicks", "carts", "orders"]
    assert set(candidates["session"]) == set(valid["session"])
    ordered = candidates.sort_values(["session", "event_type", "rank"])
    assert ordered.index.tolist() == candidates.index.tolist()
    per_list = candidates.groupby(["session", "event_type"], observed=True)
    assert all(ranks == list(range(1, 21)) for ranks in per_list["rank"].apply(list))
    assert (per_list["score"].diff().dropna() <= 0).all()
    own = set(zip(valid["session"], valid["item"], strict=True))
    pairs = zip(candidates["session"], candidates["item"], strict=True)
    assert not any(pair in own for pair in pairs)


@functools.cache
def _per_type_checkpoint() -> dict:
    """Trained with a carts and an orders session vector besides the clicks one."""
    train, valid, labels = tiny_split()
    weights = {"clicks": 1.0, "carts": 1.0, "orders": 1.0}
    params = training_params(per_type_heads=True, type_weights=weights)
    return train_session_gnn(train, valid, labels, item_map(N_ITEMS), params)[0]


@pytest.mark.parametrize("per_type_heads", [False, True])
def test_candidates_are_the_best_new_items_of_each_head(per_type_heads):
    """Against the full score matrix of each type's network and vector (float: scores
    compared closely); without per-type heads one vector ranks for all three types."""
    _, valid, _ = tiny_split()
    checkpoint = _per_type_checkpoint() if per_type_heads else trained_checkpoint()
    assert checkpoint["config"]["per_type_heads"] is per_type_heads
    candidates = recommend_gnn(valid, checkpoint, {"device": "cpu", "block_items": 13})
    model = load_model(checkpoint)
    events = SessionEvents(valid, "valid")
    graphs = events.graphs(events.offsets, events.offsets + events.lengths, 30)
    with torch.no_grad():
        full = torch.stack([head(graphs)[:, t] for t, head in enumerate(model.heads)], 1)
    full = full.numpy()
    session_row = {session: row for row, session in enumerate(events.sessions)}
    for t, name in enumerate(["clicks", "carts", "orders"]):
        part = candidates[candidates["event_type"] == name]
        for session, rows in part.groupby("session"):
            scores = full[session_row[session], t].copy()
            scores[valid.loc[valid["session"] == session, "item"].to_numpy()] = -np.inf
            assert np.allclose(rows["score"], np.sort(scores)[::-1][:20], atol=1e-5)
            assert np.allclose(scores[rows["item"].to_numpy()], rows["score"], atol=1e-5)
    if not per_type_heads:  # one network state for all types: three equal lists
        single = {
            **checkpoint,
            "state_dicts": dict.fromkeys(EVENT_TYPES, checkpoint["state_dicts"]["clicks"]),
        }
        lists = recommend_gnn(valid, single, {"device": "cpu"}).groupby("event_type", observed=True)
        items = [group["item"].to_numpy() for _, group in lists]
        assert np.array_equal(items[0], items[1]) and np.array_equal(items[0], items[2])


def test_candidate_items_restrict_scoring_to_the_most_frequent_items():
    _, valid, _ = tiny_split()
    checkpoint = trained_checkpoint()
    allowed = np.sort(np.argsort(-checkpoint["item_counts"], kind="stable")[:30])
    restricted = recommend_gnn(valid, checkpoint, {"device": "cpu", "candidate_items": 30})
    assert set(restricted["item"]) <= set(allowed)
    assert len(restricted) > 0


def test_unknown_items_are_refused_with_the_dataset_name():
    _, valid, _ = tiny_split()
    broken = valid.assign(item=np.where(valid.index == 0, N_ITEMS + 5, valid["item"]))
    with pytest.raises(ValueError, match=r"test_sessions has item 105 but the model knows 100"):
        recommend_gnn(broken, trained_checkpoint(), {"device": "cpu", "dataset": "test_sessions"})


SCRIPT = """
import json, sys
import numpy as np, pandas as pd, torch
from recommender_gnn.models.session_gnn.model import build_model
from recommender_gnn.models.session_gnn.recommend import recommend_gnn

n_items, n_sessions, block_items = {n_items}, {n_sessions}, {block_items}
config = dict(n_items=n_items, embedding_dim=32, n_steps=1, use_event_types=True, dropout=0.0,
              max_session_length=30)
torch.manual_seed(0)
state = build_model(config).state_dict()
checkpoint = dict(config=config, state_dicts=dict(clicks=state, carts=state, orders=state))
rng = np.random.default_rng(0)
lengths = rng.integers(1, 6, n_sessions)
sessions = pd.DataFrame(dict(
    session=np.repeat(np.arange(n_sessions), lengths), item=rng.integers(0, n_items, lengths.sum()),
    ts=np.arange(lengths.sum()), type=rng.integers(0, 3, lengths.sum()).astype("int8")))

def status(key):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(key))

with open("/proc/self/clear_refs", "w") as file:  # the high-water mark restarts here
    file.write("5")
before = status("VmRSS:")
params = dict(device="cpu", num_threads=1, batch_size=256, block_items=block_items)
candidates = recommend_gnn(sessions, checkpoint, params)
json.dump(dict(rows=len(candidates), before_kb=before, peak_kb=status("VmHWM:")), sys.stdout)
"""


def _scoring_peak(n_items: int, n_sessions: int, block_items: int) -> dict:
    """Run recommend_gnn in a fresh process; its own VmHWM since just before scoring."""
    script = SCRIPT.format(n_items=n_items, n_sessions=n_sessions, block_items=block_items)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=BLUEPRINT / "src", capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_scoring_a_million_items_stays_within_a_block_of_memory():
    """A dense [3, 256, 1.2 M] float32 block alone would add 3.7 GB; blocks of 16,384 items
    add [3, 256, 16,384] (50 MB) and a few copies of it."""
    measured = _scoring_peak(n_items=1_200_000, n_sessions=300, block_items=16_384)
    assert measured["rows"] == 300 * 3 * 20
    assert (measured["peak_kb"] - measured["before_kb"]) / 1024 < 500  # MB; measured: 357

"""What every baseline's candidates must be: the contract, new items only, the same result
however the sessions are chunked. States are fit on planted-walk sessions through the real SQL
(DuckDB) and the real fit functions."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from kedro.config import OmegaConfigLoader

from recommender_gnn.pipelines.baselines.candidates import EVENT_TYPES, top_new_items
from recommender_gnn.pipelines.baselines.nodes import (
    RECOMMENDERS,
    fit_covisitation,
    fit_items,
    fit_popularity,
    fit_sknn,
    fit_transitions,
)
from tests.kedro_cli import BLUEPRINT
from tests.pipelines.baselines.sql_helpers import run_query
from tests.pipelines.session_data import make_sessions, truncate

# The configured parameters, resolved as `kedro run` resolves them (globals, runtime_params).
CONFIG = OmegaConfigLoader(str(BLUEPRINT / "conf"), base_env="base", default_run_env="base")
PARAMS = CONFIG["parameters"]["baselines"]
QUERIES = CONFIG["globals"]


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    train = make_sessions(n_sessions=400, n_items=40, seed=0)
    tmp = tmp_path_factory.mktemp("sql")
    counts = {
        name: run_query(tmp, name, train, QUERIES[f"{name}_query"])
        for name in ("covisitation_counts", "covisitation_buy2buy", "transition_counts")
    }
    return {
        "popularity": fit_popularity(train, PARAMS["popularity"]),
        "covisitation": fit_covisitation(
            counts["covisitation_counts"], counts["covisitation_buy2buy"], fit_items(train)
        ),
        "transitions": fit_transitions(counts["transition_counts"], fit_items(train)),
        "sknn": fit_sknn(train, PARAMS["sknn"]),
    }


@pytest.fixture(scope="module")
def queries():
    prefixes, _ = truncate(make_sessions(n_sessions=60, n_items=45, seed=1), seed=1)
    return prefixes  # items 40-44 are unknown to the fits


MODELS = list(RECOMMENDERS)


@pytest.mark.parametrize("model", MODELS)
def test_candidates_follow_the_contract_and_hold_new_items_only(model, states, queries):
    candidates = RECOMMENDERS[model](queries, states[model], PARAMS[model])
    assert list(candidates.columns) == ["session", "event_type", "item", "rank", "score"]
    assert candidates.dtypes.astype(str).to_dict() == {
        "session": "int32",
        "event_type": "category",
        "item": "int32",
        "rank": "int16",
        "score": "float32",
    }
    assert list(candidates["event_type"].cat.categories) == EVENT_TYPES
    order = np.lexsort(
        (candidates["rank"], candidates["event_type"].cat.codes, candidates["session"])
    )
    assert (order == np.arange(len(candidates))).all()
    groups = candidates.groupby(["session", "event_type"], observed=True)
    assert (groups["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    assert groups.size().max() <= PARAMS[model]["top_k"]
    assert (groups["score"].apply(lambda s: bool((np.diff(s) <= 0).all()))).all()
    assert not candidates.duplicated(["session", "event_type", "item"]).any()
    seen = queries[["session", "item"]].drop_duplicates()
    overlap = candidates.merge(seen, on=["session", "item"])
    assert overlap.empty, f"{model} recommends items the session already has"
    assert candidates["session"].nunique() > 0.8 * queries["session"].nunique()


@pytest.mark.parametrize("model", MODELS)
def test_chunks_and_row_order_do_not_change_the_candidates(model, states, queries):
    whole = RECOMMENDERS[model](
        queries, states[model], {**PARAMS[model], "sessions_per_chunk": 10**6}
    )
    shuffled = queries.sample(frac=1.0, random_state=0)
    chunked = RECOMMENDERS[model](
        shuffled, states[model], {**PARAMS[model], "sessions_per_chunk": 7}
    )
    pd.testing.assert_frame_equal(whole, chunked)


@pytest.mark.parametrize("model", MODELS)
def test_no_session_gives_an_empty_table_of_the_contract(model, states, queries):
    empty = RECOMMENDERS[model](queries.iloc[:0], states[model], PARAMS[model])
    assert empty.empty
    assert empty.dtypes.astype(str).to_dict()["event_type"] == "category"


def test_top_new_items_equals_a_full_sort_of_every_row():
    # Values over many octaves with ties, seen items among each row's best: the pre-selection
    # of best_per_row must keep exactly what a full sort would rank.
    rng = np.random.default_rng(0)
    n_rows, n_items, top_k = 60, 400, 7
    scores = sp.random(n_rows, n_items, density=0.2, format="csr", random_state=1)
    scores.data = rng.choice([3.0, 3.0 + 1e-12, 1.0, 0.999, 2.0**-30, 0.5], scores.nnz)
    seen = sp.random(n_rows, n_items, density=0.05, format="csr", random_state=2)
    seen.data[:] = 1.0
    row, item, rank, score = top_new_items(scores, seen, top_k)
    expected = []
    for r in range(n_rows):
        entries = scores[r].tocoo()
        unseen = set(entries.col) - set(seen[r].tocoo().col)
        values = dict(zip(entries.col, entries.data, strict=True))
        best = sorted(unseen, key=lambda i: (-values[i], i))[:top_k]
        expected += [(r, i, n + 1, values[i]) for n, i in enumerate(best)]
    assert list(zip(row, item, rank, score, strict=True)) == expected
    assert (np.bincount(row, minlength=n_rows) == top_k).all()


def test_seen_items_at_the_top_do_not_shorten_the_list():
    # Every row's 5 best items are the session's own: the 7 new ones come from further down.
    rng = np.random.default_rng(3)
    n_rows, n_items, top_k = 20, 200, 7
    scores = sp.csr_matrix(rng.random((n_rows, n_items)) ** 8)  # distinct, over many octaves
    best = np.argsort(-scores.toarray(), axis=1)
    seen = sp.csr_matrix(
        (np.ones(5 * n_rows), (np.repeat(np.arange(n_rows), 5), best[:, :5].ravel())),
        shape=(n_rows, n_items),
    )
    item = top_new_items(scores, seen, top_k)[1]
    assert item.reshape(n_rows, top_k).tolist() == best[:, 5 : 5 + top_k].tolist()

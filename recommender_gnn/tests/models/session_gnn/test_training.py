"""fit_gnn: early stopping per head, the refit at fixed epochs, budgets, sampled softmax."""

import numpy as np
import pandas as pd
import pytest
import torch

from recommender_gnn.models.session_gnn.model import build_model
from recommender_gnn.models.session_gnn.training import (
    EarlyStopping,
    _optimizers,
    fit_gnn,
    load_model,
    model_config,
    train_session_gnn,
)
from tests.pipelines.session_data import (
    N_ITEMS,
    item_map,
    tiny_split,
    training_params,
    truncate,
)


@pytest.fixture(scope="module")
def split():
    return tiny_split()


def _same_state(first: dict, second: dict) -> bool:
    return all(torch.equal(tensor, second[name]) for name, tensor in first.items())


def test_early_stopping_waits_patience_epochs_and_remembers_the_best():
    stopping = EarlyStopping(patience=2)
    decisions = [
        stopping.step(epoch, metric) for epoch, metric in enumerate([0.1, 0.3, 0.2, 0.3], 1)
    ]
    assert decisions == [False, False, False, True]
    assert (stopping.best_epoch, stopping.best) == (2, 0.3)
    assert not EarlyStopping(patience=2, min_delta=0.05).step(1, 0.1)


def test_score_fn_drives_each_heads_best_epoch_and_the_stop(split):
    train, valid, labels = split
    # Scores by epoch, as a policy-aware scorer would return them (with its chosen policy).
    schedule = {
        "clicks": [0.1, 0.2, 0.3, 0.3, 0.3],
        "carts": [0.5, 0.4, 0.4, 0.4, 0.4],
        "orders": [0.2, 0.2, 0.6, 0.1, 0.1],
    }
    calls = []

    def score_fn(candidates, sessions, labels_):
        assert sessions is valid and labels_ is labels
        epoch = len(calls)
        calls.append(candidates)
        scores = {name: values[epoch] for name, values in schedule.items()}
        policy = {"clicks": 0.0, "carts": float(epoch), "orders": 10.0 * epoch}
        return {**scores, "score": 0.0, "policy": policy}

    params = training_params(max_epochs=5, early_stopping={"patience": 2, "min_delta": 0})
    checkpoint, history = fit_gnn(train, item_map(N_ITEMS), params, valid, labels, score_fn)
    assert len(history) == 5  # clicks improved at 3; no head after: stops at 5
    assert checkpoint["best_epochs"] == {"clicks": 3, "carts": 1, "orders": 3}
    assert checkpoint["best_valid_recall"] == {"clicks": 0.3, "carts": 0.5, "orders": 0.6}
    assert checkpoint["best_valid_score"] == pytest.approx(0.1 * 0.3 + 0.3 * 0.5 + 0.6 * 0.6)
    assert checkpoint["best_valid_policy"] == {"clicks": 0.0, "carts": 0.0, "orders": 20.0}
    assert history["valid_policy_orders"].tolist() == [0.0, 10.0, 20.0, 30.0, 40.0]
    # Each head's state is the network after its best epoch: carts (1) differs from clicks (3).
    states = checkpoint["state_dicts"]
    assert _same_state(states["clicks"], states["orders"])
    assert not _same_state(states["clicks"], states["carts"])
    refit = {"clicks": 3, "carts": 1, "orders": 3}
    same, _ = fit_gnn(train, item_map(N_ITEMS), training_params(epochs=refit))
    for name in ("clicks", "carts", "orders"):  # training does not depend on validation
        assert _same_state(states[name], same["state_dicts"][name])


def test_the_refit_keeps_each_head_at_its_epoch(split):
    train, _, _ = split
    refit, history = fit_gnn(
        train, item_map(N_ITEMS), training_params(epochs={"clicks": 2, "carts": 1, "orders": 1})
    )
    assert len(history) == 2 and refit["best_valid_recall"] is None
    heads = ("clicks", "carts", "orders")
    one, _ = fit_gnn(train, item_map(N_ITEMS), training_params(epochs=dict.fromkeys(heads, 1)))
    two, _ = fit_gnn(train, item_map(N_ITEMS), training_params(epochs=dict.fromkeys(heads, 2)))
    assert _same_state(refit["state_dicts"]["clicks"], two["state_dicts"]["clicks"])
    assert _same_state(refit["state_dicts"]["carts"], one["state_dicts"]["carts"])
    assert not _same_state(refit["state_dicts"]["carts"], two["state_dicts"]["carts"])
    with pytest.raises(ValueError, match="epochs must map clicks, carts and orders"):
        fit_gnn(train, item_map(N_ITEMS), training_params(epochs=None))


def test_a_time_budget_stops_after_the_batch_that_crosses_it(split):
    train, valid, labels = split
    params = training_params(time_budget_seconds=1e-9, max_epochs=5, batch_size=64)
    checkpoint, history = fit_gnn(train, item_map(N_ITEMS), params, valid, labels)
    assert history["pairs"].tolist() == [64]  # one batch, then its validation, then stop
    assert checkpoint["best_epochs"] == dict.fromkeys(["clicks", "carts", "orders"], 1)


def test_the_tuners_pruner_stops_training_and_the_checkpoint_says_when(split):
    train, valid, labels = split
    params = training_params(max_epochs=4, early_stopping={"patience": 10, "min_delta": 0.0})
    reported = []

    def prune_at_two(epoch, score):
        reported.append((epoch, score))
        return epoch == 2

    checkpoint, history = fit_gnn(
        train, item_map(N_ITEMS), params, valid, labels, on_epoch=prune_at_two
    )
    assert history["epoch"].tolist() == [1, 2] and checkpoint["pruned_after_epoch"] == 2
    assert [epoch for epoch, _ in reported] == [1, 2]
    assert reported[-1][1] == pytest.approx(checkpoint["best_valid_score"])
    kept, history = fit_gnn(
        train, item_map(N_ITEMS), params, valid, labels, on_epoch=lambda *_: False
    )
    assert len(history) == 4 and kept["pruned_after_epoch"] is None


def test_max_train_sessions_keeps_the_sessions_that_ended_last(split):
    train, valid, labels = split
    params = training_params(max_train_sessions=50, max_epochs=1)
    checkpoint, _ = fit_gnn(train, item_map(N_ITEMS), params, valid, labels)
    last_ts = train.groupby("session")["ts"].max()
    recent = last_ts.sort_values(ascending=False, kind="stable").index[:50]
    lengths = train[train["session"].isin(recent)].groupby("session").size()
    assert checkpoint["n_training_pairs"] == int((lengths - 1).sum())
    assert 0 < checkpoint["n_training_pairs"] < len(train) - train["session"].nunique()


def test_training_learns_the_planted_transitions_and_is_deterministic(split):
    train, valid, labels = split
    first, history = train_session_gnn(train, valid, labels, item_map(N_ITEMS), training_params())
    second, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), training_params())
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    # Chance is 20/100; the planted rule makes the successor the next click 80% of the time.
    assert history["valid_clicks"].max() > 0.6
    for head, state in first["state_dicts"].items():
        assert _same_state(state, second["state_dicts"][head]), head
    third, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), training_params(seed=1))
    assert not _same_state(first["state_dicts"]["clicks"], third["state_dicts"]["clicks"])
    assert load_model(first).models["clicks"].item_embedding.weight.shape == (N_ITEMS, 16)
    assert first["item_counts"].sum() == len(train)


def zipf_sessions(n_sessions: int, n_items: int, seed: int) -> pd.DataFrame:
    """Next item: the planted successor (item + 1) half of the time, else a Zipf-popular item
    (popularity unrelated to the id): a catalogue where uniform or uncorrected negatives fail."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.2
    by_rank = np.random.default_rng(123).permutation(n_items)
    rows = []
    for session in range(n_sessions):
        item = by_rank[rng.choice(n_items, p=popularity / popularity.sum())]
        for step in range(int(rng.integers(2, 9))):
            rows.append((session, int(item), session * 1000 + step, 0))
            jump = by_rank[rng.choice(n_items, p=popularity / popularity.sum())]
            item = (item + 1) % n_items if rng.random() < 0.5 else jump
    frame = pd.DataFrame(rows, columns=["session", "item", "ts", "type"])
    return frame.astype({"type": "int8"})


def test_log_q_corrected_sampled_softmax_ranks_as_well_as_full_softmax():
    """Measured: full 0.70, sampled with log-Q 0.71, the same without the correction 0.54
    (it learns to rank popular items down), Recall@20 of the next click."""
    n_items = 200
    train = zipf_sessions(1500, n_items, 0)
    valid, labels = truncate(zipf_sessions(300, n_items, 1), 1)
    recalls = {}
    for name, threshold in (("full", 10**6), ("sampled", 10)):
        params = training_params(
            max_epochs=4,
            early_stopping={"patience": 4, "min_delta": 0},
            sampled_softmax={"above_n_items": threshold, "n_negatives": 32},
        )
        checkpoint, _ = fit_gnn(train, item_map(n_items), params, valid, labels)
        recalls[name] = checkpoint["best_valid_recall"]["clicks"]
    assert recalls["full"] > 0.6
    assert recalls["sampled"] >= recalls["full"] - 0.03


def test_items_beyond_the_item_map_are_refused(split):
    train, valid, labels = split
    with pytest.raises(ValueError, match="item_map lists only 10 items"):
        fit_gnn(train, item_map(10), training_params(max_epochs=1), valid, labels)


def test_labels_without_their_columns_are_refused(split):
    train, valid, labels = split
    with pytest.raises(ValueError, match=r"valid_labels lacks column\(s\) \['event_type'\]"):
        fit_gnn(
            train, item_map(N_ITEMS), training_params(), valid, labels.drop(columns="event_type")
        )


def test_the_learning_rate_steps_down_as_in_sr_gnn(split):
    train, _, _ = split
    params = training_params(
        epochs=dict.fromkeys(["clicks", "carts", "orders"], 5),
        learning_rate=0.04,
        lr_decay=0.5,
        lr_decay_epochs=2,
    )
    _, history = fit_gnn(train, item_map(N_ITEMS), params)
    assert history["learning_rate"].tolist() == pytest.approx([0.04, 0.04, 0.02, 0.02, 0.01])
    _, constant = fit_gnn(train, item_map(N_ITEMS), {**params, "lr_decay": 1.0})
    assert constant["learning_rate"].tolist() == pytest.approx([0.04] * 5)


def test_sampled_softmax_updates_only_the_item_rows_a_batch_touched():
    """Dense Adam rewrote every embedding and its moments at each step (486 pairs/s at OTTO's
    1.86 M items on a CPU); SparseAdam touches the batch's items and the drawn negatives."""
    n_items = 1000
    params = training_params(sampled_softmax={"above_n_items": 10, "n_negatives": 8})
    model = build_model(model_config(n_items, params))
    before = model.item_embedding.weight.detach().clone()
    optimizers = _optimizers(model, params, sparse_items=True)
    touched = torch.tensor([3, 7, 11])
    loss = (model.item_embedding(touched) ** 2).sum() + sum(
        (p**2).sum() for n, p in model.named_parameters() if n != "item_embedding.weight"
    )
    loss.backward()
    assert model.item_embedding.weight.grad.is_sparse
    for each in optimizers:
        each.step()
    changed = (model.item_embedding.weight.detach() != before).any(1).nonzero().flatten()
    assert changed.tolist() == [3, 7, 11]
    dense = build_model(model_config(n_items, params))
    assert len(_optimizers(dense, params, sparse_items=False)) == 1
    assert not dense.item_embedding.sparse

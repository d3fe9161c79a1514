"""Tiny hand-made session tables in the canonical schema, with a planted next-item rule.

Used by the model tests independently of the OTTO generator: the next item is
``(item + 1) % n_items`` with probability ``follow``, so a model that learns transitions beats
chance by far within one or two epochs.
"""

import functools
from pathlib import Path

import numpy as np
import pandas as pd


def make_sessions(
    n_sessions: int = 300, n_items: int = 40, seed: int = 0, follow: float = 0.8
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for session in range(n_sessions):
        item = int(rng.integers(n_items))
        ts = 1_660_000_000 + session * 1000
        for _ in range(int(rng.integers(2, 9))):
            event_type = int(rng.choice(3, p=[0.8, 0.15, 0.05]))
            rows.append((session, item, ts, event_type))
            ts += int(rng.integers(1, 60))
            item = (item + 1) % n_items if rng.random() < follow else int(rng.integers(n_items))
    frame = pd.DataFrame(rows, columns=["session", "item", "ts", "type"])
    return frame.astype({"session": "int64", "item": "int64", "ts": "int64", "type": "int8"})


def item_map(n_items: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"item": np.arange(n_items), "aid": np.arange(n_items) * 10 + 7})


def truncate(sessions: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prefix of every session (cut at a random point) and the long labels of its remainder."""
    rng = np.random.default_rng(seed)
    prefixes, labels = [], []
    for session, events in sessions.groupby("session", sort=True):
        cut = int(rng.integers(1, len(events)))
        prefixes.append(events.iloc[:cut])
        rest = events.iloc[cut:]
        clicks = rest[rest["type"] == 0]
        if len(clicks):
            labels.append((session, "clicks", int(clicks["item"].iloc[0])))
        for code, name in ((1, "carts"), (2, "orders")):
            labels += [
                (session, name, int(i)) for i in rest.loc[rest["type"] == code, "item"].unique()
            ]
    return (
        pd.concat(prefixes, ignore_index=True),
        pd.DataFrame(labels, columns=["session", "event_type", "item"]),
    )


BLUEPRINT = Path(__file__).resolve().parents[2]


N_ITEMS = 100


def training_params(**overrides) -> dict:
    """The base model_training parameters, shrunk so a test trains in a second or two."""
    import yaml

    with open(BLUEPRINT / "conf/base/parameters_model_training.yml") as file:
        params = yaml.safe_load(file)["model_training"]
    params.update(
        seed=0,
        num_threads=1,
        progress_bar=False,
        embedding_dim=16,
        max_epochs=2,
        batch_size=64,
        learning_rate=0.03,
    )
    return {**params, **overrides}


@functools.cache
def tiny_split() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(train sessions, validation prefixes, validation labels) on N_ITEMS items."""
    train = make_sessions(n_sessions=300, n_items=N_ITEMS, seed=0)
    valid, labels = truncate(make_sessions(n_sessions=80, n_items=N_ITEMS, seed=1), seed=1)
    return train, valid, labels


@functools.cache
def trained_checkpoint(seed: int = 0, max_epochs: int = 2) -> dict:
    """A checkpoint trained on ``tiny_split`` (cached: several test modules share it)."""
    from recommender_gnn.models.session_gnn.training import train_session_gnn

    train, valid, labels = tiny_split()
    params = training_params(seed=seed, max_epochs=max_epochs)
    checkpoint, _ = train_session_gnn(train, valid, labels, item_map(N_ITEMS), params)
    return checkpoint

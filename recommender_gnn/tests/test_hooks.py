"""Per-node peak memory is the node's own: reset before it, read after it."""

import time

import numpy as np
import pandas as pd
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import AbstractDataset, DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from recommender_gnn.hooks import NodeProfileHooks, peak_memory_gb, reset_peak_memory


def _nothing(value):
    return value


class _SlowBigLoad(AbstractDataset):
    """Works while it loads, as a SQL dataset does: 0.5 s and 400 MB touched."""

    def load(self):
        block = np.ones(400 * 2**20 // 8)
        time.sleep(0.5)
        return float(block[-1])

    def save(self, data):
        raise NotImplementedError

    def _describe(self):
        return {}


class _SlowSave(MemoryDataset):
    def save(self, data):
        time.sleep(0.5)
        super().save(data)


def test_a_node_counts_its_loading_and_saving(tmp_path, monkeypatch):
    """Through Kedro's own runner: the time and memory of a load (a SQL dataset's query) and of
    a save belong to the node that reads or writes the data."""
    profile = tmp_path / "nodes.csv"
    monkeypatch.setenv("RECOMMENDER_GNN_NODE_PROFILE", str(profile))
    hook_manager = _create_hook_manager()
    hook_manager.register(NodeProfileHooks())
    catalog = DataCatalog({"query": _SlowBigLoad(), "written": _SlowSave()})
    pipeline = Pipeline(
        [
            Node(_nothing, "query", "result", name="reads_a_query"),
            Node(_nothing, "result", "written", name="writes_slowly"),
        ]
    )
    SequentialRunner().run(pipeline, catalog, hook_manager=hook_manager)
    rows = pd.read_csv(profile).set_index("node")
    assert rows.loc["reads_a_query", "seconds"] >= 0.5
    assert rows.loc["reads_a_query", "peak_gb"] > rows.loc["writes_slowly", "peak_gb"] + 0.3
    assert rows.loc["writes_slowly", "seconds"] >= 0.5


def test_each_node_reports_its_own_peak(tmp_path, monkeypatch):
    profile = tmp_path / "nodes.csv"
    monkeypatch.setenv("RECOMMENDER_GNN_NODE_PROFILE", str(profile))
    hooks = NodeProfileHooks()
    big = Node(func=_nothing, inputs="a", outputs="b", name="big")
    small = Node(func=_nothing, inputs="b", outputs="c", name="small")
    hooks.before_node_run(big)
    block = np.ones(400 * 2**20 // 8)  # 400 MB touched
    hooks.after_node_run(big)
    hooks.after_dataset_saved("b", big)
    del block
    hooks.before_node_run(small)
    hooks.after_node_run(small)
    hooks.after_dataset_saved("c", small)
    rows = pd.read_csv(profile).set_index("node")
    assert rows.loc["big", "peak_gb"] > rows.loc["small", "peak_gb"] + 0.3
    assert reset_peak_memory() and peak_memory_gb() < rows.loc["big", "peak_gb"]

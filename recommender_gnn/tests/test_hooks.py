"""Per-node peak memory is the node's own: reset before it, read after it."""

import numpy as np
import pandas as pd
from kedro.pipeline import Node

from recommender_gnn.hooks import NodeProfileHooks, peak_memory_gb, reset_peak_memory


def _nothing(value):
    return value


def test_each_node_reports_its_own_peak(tmp_path, monkeypatch):
    profile = tmp_path / "nodes.csv"
    monkeypatch.setenv("RECOMMENDER_GNN_NODE_PROFILE", str(profile))
    hooks = NodeProfileHooks()
    big = Node(func=_nothing, inputs="a", outputs="b", name="big")
    small = Node(func=_nothing, inputs="b", outputs="c", name="small")
    hooks.before_node_run(big)
    block = np.ones(400 * 2**20 // 8)  # 400 MB touched
    hooks.after_node_run(big)
    del block
    hooks.before_node_run(small)
    hooks.after_node_run(small)
    rows = pd.read_csv(profile).set_index("node")
    assert rows.loc["big", "peak_gb"] > rows.loc["small", "peak_gb"] + 0.3
    assert reset_peak_memory() and peak_memory_gb() < rows.loc["big", "peak_gb"]

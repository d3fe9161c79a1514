"""What tests/test_vertex_sim.py (a kit file) checks of this blueprint's Vertex AI steps."""

from pathlib import Path

# Written by prepare-data, read by fit-baselines (pipeline baselines) and later steps: a Parquet
# file in gcp.
HAND_OFF = ("train_sessions", "prepare-data", "fit-baselines")
READER_PIPELINE = "baselines"
OUTPUTS = (
    "02_intermediate/train_sessions.parquet",
    "07_model_output/transitions_predictions.parquet",
    "07_model_output/gnn_predictions.parquet",
    "07_model_output/submission.csv",
)
# Steps of their own runs (H&M sequences, the banking use case), not of __default__.
STEPS_OUTSIDE_DEFAULT = frozenset({"hm-sequences", "banking-data", "banking-models"})


def prepare(project: Path) -> None:
    """Nothing to change: the tiny parameters give the same outputs in every process."""


def check_outputs(vertex_data: Path, local_data: Path) -> None:
    """OUTPUTS are compared row by row; nothing else to compare."""

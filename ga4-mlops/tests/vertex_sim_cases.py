"""What tests/test_vertex_sim.py (a kit file) checks of this blueprint's Vertex AI steps. The
BigQuery queries run on DuckDB there (tools/vertex_sim.py)."""

from pathlib import Path

# Written by extract-features, read by train (pipeline feature_engineering): a Parquet file in
# conf/base (gcp: under gs://).
HAND_OFF = ("model_input_table", "extract-features", "train")
READER_PIPELINE = "feature_engineering"
# Deterministic outputs of four steps (the versioned ones are folders of one version).
OUTPUTS = (
    "05_model_input/model_input_table.parquet",
    "07_model_output/batch_scores.parquet",
    "08_reporting/evaluation_metrics.csv",
    "08_reporting/realized_performance.csv",
)
STEPS_OUTSIDE_DEFAULT: frozenset[str] = frozenset()


def prepare(project: Path) -> None:
    """Nothing to change: the tiny parameters give the same outputs in every process."""


def check_outputs(vertex_data: Path, local_data: Path) -> None:
    """OUTPUTS are compared row by row; nothing else to compare."""

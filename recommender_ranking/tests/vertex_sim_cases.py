"""What tests/test_vertex_sim.py (a kit file) checks of this blueprint's Vertex AI steps."""

from pathlib import Path

from tests.vertex_sim_helpers import read

# Written by generate-candidates, read by build-features (pipeline feature_engineering): a
# Parquet file in conf/base.
HAND_OFF = ("candidates", "generate-candidates", "build-features")
READER_PIPELINE = "feature_engineering"
OUTPUTS = (
    "02_intermediate/transactions.parquet",
    "04_feature/article_image_embeddings.parquet",
    "04_feature/article_text_embeddings.parquet",
    "05_model_input/candidates/taste.parquet",
    "05_model_input/candidates/image_neighbours.parquet",
)
STEPS_OUTSIDE_DEFAULT: frozenset[str] = frozenset()
# Identical texts (colour variants) tie exactly in the text neighbours; faiss may cut such a tie
# at top-k differently in another process (0.01% of the candidates here), so the ranker's
# figures are compared to a tolerance rather than row by row.
MAP_TOLERANCE = 0.01


def prepare(project: Path) -> None:
    """gcp lets torch use every core; another thread count sums floats in another order, and
    near-tied neighbours of the image embeddings (colour variants) then swap."""
    gcp_threads = project / "conf" / "gcp" / "parameters_embeddings.yml"
    gcp_threads.write_text(
        gcp_threads.read_text().replace("torch_threads: null", "torch_threads: 1")
    )


def check_outputs(vertex_data: Path, local_data: Path) -> None:
    ranker = {
        run: read(root / "08_reporting/evaluation_table.csv")
        .query("segment == 'all'")
        .set_index("recommender")["map_at_12_buyers"]
        for run, root in (("vertex", vertex_data), ("local", local_data))
    }
    assert ranker["vertex"]["ranker"] > ranker["vertex"]["baseline:popularity"]
    assert abs(ranker["vertex"]["ranker"] - ranker["local"]["ranker"]) < MAP_TOLERANCE

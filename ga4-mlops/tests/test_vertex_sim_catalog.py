"""tools/vertex_sim.py's check of this blueprint's gcp catalog (the shared checks of the steps
are in tests/test_vertex_sim.py, a kit file)."""

import shutil

from tests.kedro_cli import BLUEPRINT
from tests.vertex_sim_helpers import vertex_sim


def test_undeclared_dataset_its_own_step_reads_never_leaves_it(tmp_path):
    """kedro-vertexai pickles only a step's free outputs: the encoded test features, read in
    "train" too, need their gcp catalog entry to reach "evaluate-and-explain"."""
    project = tmp_path / "ga4-mlops"
    shutil.copytree(
        BLUEPRINT,
        project,
        ignore=shutil.ignore_patterns(".venv", "data", "mlruns", "build", "*.db"),
    )
    (project / "conf" / "gcp" / "catalog.yml").unlink()
    done = vertex_sim(project, tmp_path / "work", "--check-only")
    assert done.returncode == 1
    assert (
        "dataset 'test_features' is written by step 'train' and read by step "
        "'evaluate-and-explain', but the catalog does not declare it and a node of 'train' "
        "reads it too"
    ) in done.stderr

"""Shared helpers: a throwaway project copy, the real kedro CLI, tiny run parameters."""

import os
from pathlib import Path

import pytest

from tests.kedro_cli import BLUEPRINT, copy_project, run_kedro

# Like the Makefile and settings.py: before any test loads an OpenMP runtime (openmp.py).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

# A small pipeline for the tests that run or compile it in the gcp environment
# (test_gcp_environment.py, a kit copy).
GCP_TEST_PIPELINE = "eda"
# A pipeline run on a fresh copy before the one that writes its input: (pipeline, the missing
# dataset named first, its file, the pipelines that write it) (tests/test_new_user_errors.py).
FRESH_RUN = (
    "training",
    "article_image_embeddings",
    "data/04_feature/article_image_embeddings.parquet",
    ["embeddings", "end_to_end"],
)


# About 200 test-week buyers in the tiny run: MAP@12's standard error (about 0.03) dwarfs the
# gate's 5% margin, which the benchmark holds on the default data; here the ranker must at
# least match the strongest single source.
TINY_GATE_RATIO = 1.0
# Small enough for a test on 2 busy cores, big enough that every week has buyers.
TINY_PARAMS = ",".join(
    [
        "data_generation.n_customers=600",
        "data_generation.n_articles=400",
        "data_generation.n_weeks=8",
        "embeddings.epochs=2",
        "eda.minimal_above_rows=0",
        # The model side's own tiny settings (Optuna trials and boosting rounds).
        "model_training.n_trials=1",
        "model_training.fixed.n_estimators=20",
        f"model_registry.quality_gate.min_ratio_to_best_source={TINY_GATE_RATIO}",
    ]
)


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    """The whole default run (generator included) on tiny data, in a throwaway copy."""
    project = copy_project(tmp_path_factory.mktemp("e2e") / "recommender_ranking")
    run_kedro(project, "run", "--env=local", "--params", TINY_PARAMS)
    return project


@pytest.fixture(scope="session")
def tiny_generation_params() -> dict:
    """The generator's parameters (conf/base) at a size unit tests can afford."""
    import yaml

    params = yaml.safe_load(
        (BLUEPRINT / "conf" / "base" / "parameters_data_generation.yml").read_text()
    )["data_generation"]
    return {**params, "seed": 7, "k": 12, "n_customers": 500, "n_articles": 400, "n_weeks": 8}

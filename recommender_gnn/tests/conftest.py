"""Shared fixtures: a throwaway project copy, the real kedro CLI, and tiny run parameters."""

import os
from pathlib import Path

import pytest

from tests.kedro_cli import copy_project, run_kedro

# Like the Makefile and settings.py: before any test loads an OpenMP runtime (openmp.py).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

# A small pipeline for the tests that run or compile it in the gcp environment
# (test_gcp_environment.py, a kit copy).
GCP_TEST_PIPELINE = "submission"
# A pipeline run on a fresh copy before the one that writes its input: (pipeline, the missing
# dataset named first, its file, the pipelines that write it) (tests/test_new_user_errors.py).
FRESH_RUN = (
    "baselines",
    "refit_sessions",
    "data/02_intermediate/refit_sessions.parquet",
    ["data_preparation", "end_to_end"],
)


# Small enough for a test on 2 busy cores, big enough that every split and event type has
# labels. Both gates are opened (margin -1: any candidate passes) because a tiny dataset cannot
# promise the real margins; tests/test_end_to_end.py closes them (+1) and sees them refuse.
OPEN_GATES = [
    "model_registry.quality_gate.min_uplift_over_best_baseline=-1.0",
    "model_registry.quality_gate.min_uplift_over_champion=-1.0",
    "submission.min_uplift_over_best_baseline=-1.0",
]
CLOSED_GATES = [gate.replace("=-1.0", "=1.0") for gate in OPEN_GATES]
TINY_PARAMS = ",".join(
    [
        "data_generation.otto.n_sessions=2500",
        "data_generation.otto.n_items=300",
        "data_generation.hm.n_customers=200",
        "data_generation.hm.n_articles=150",
        "model_selection.tuning.n_trials=2",
        "model_selection.bootstrap.resamples=100",
        "model_training.max_epochs=2",
        "model_training.progress_bar=false",
        *OPEN_GATES,
    ]
)


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("e2e") / "recommender_gnn")
    run_kedro(project, "run", "--env=local", "--params", TINY_PARAMS)
    return project

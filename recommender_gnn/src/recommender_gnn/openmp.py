"""OpenMP threads wait passively, unless the environment already says how they wait.

A run loads OpenMP runtimes (LightGBM's, scikit-learn's, torch's); with OpenMP's default
spinning wait they slow each other several-fold as soon as another process wants the CPU (a
laptop, a CI runner, a shared VM). Passive waiting costs little on a quiet machine and removes
that loss (measured per blueprint: docs/conventions.md, "Speed on busy machines"). libgomp reads
the variables once, when first loaded: settings.py calls ``wait_passively`` before any pipeline
imports those libraries (tests/test_openmp_settings.py checks it). The Makefile (kit.mk), the
Dockerfile (so every Vertex AI step) and the dev container set the same.
Kit file: kit/files/src/recommender_gnn/openmp.py (kit/sync.py).
"""

import os

VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def wait_passively() -> None:
    """``OMP_WAIT_POLICY=passive`` unless ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` is set."""
    if not any(name in os.environ for name in VARIABLES):
        os.environ["OMP_WAIT_POLICY"] = "passive"

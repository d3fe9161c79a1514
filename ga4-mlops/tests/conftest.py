"""Shared fixtures: a small non-GA4 binary table with planted signal, and its column roles."""

import copy
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.kedro_cli import BLUEPRINT, copy_project, run_kedro

# Like the Makefile and settings.py: before any test loads LightGBM's or scikit-learn's OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

CHURN_DATES = ["2024-01-07", "2024-01-14", "2024-01-21", "2024-01-28", "2024-02-04", "2024-02-11"]


def make_churn_table(n_customers: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A churn-like table (nothing GA4 about it): one row per customer and month-end date.

    The churn probability depends non-linearly on tenure and support tickets and on the
    plan, so a model can learn it; the last date has no label (the scoring snapshot).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for date_index, date in enumerate(CHURN_DATES):
        tenure = rng.gamma(2.0, 10.0, n_customers)
        tickets = rng.poisson(1.0, n_customers).astype(float)
        tickets[rng.random(n_customers) < 0.05] = np.nan
        plan = rng.choice(["basic", "plus", "pro", None], n_customers, p=[0.5, 0.3, 0.15, 0.05])
        region = rng.choice([f"r{i}" for i in range(8)], n_customers)
        logit = -2.5 + 1.5 * (tenure < 6) + 0.6 * np.nan_to_num(tickets, nan=1.0)
        logit += np.where(plan == "pro", -1.0, 0.0)
        churned = rng.random(n_customers) < 1 / (1 + np.exp(-logit))
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": [f"c{seed}-{i:05d}" for i in range(n_customers)],
                    "as_of": pd.Timestamp(date),
                    "tenure_months": tenure,
                    "support_tickets": tickets,
                    "plan": plan,
                    "region": region,
                    "churned": np.where(
                        date_index == len(CHURN_DATES) - 1, np.nan, churned.astype(float)
                    ),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


CHURN_COLUMNS = {
    "id": ["customer_id", "as_of"],
    "date": "as_of",
    "target": "churned",
    "numeric": ["tenure_months", "support_tickets"],
    "categorical": ["plan", "region"],
}
CHURN_SPLITS = {
    "train": CHURN_DATES[:2],
    "validation": [CHURN_DATES[2]],
    "calibration": [CHURN_DATES[3]],
    "test": [CHURN_DATES[4]],
    "scoring": [CHURN_DATES[5]],
}


@pytest.fixture
def churn_table() -> pd.DataFrame:
    return make_churn_table()


@pytest.fixture
def churn_columns() -> dict:
    return {
        key: (list(value) if isinstance(value, list) else value)
        for key, value in CHURN_COLUMNS.items()
    }


@pytest.fixture
def churn_splits() -> dict:
    return {key: list(value) for key, value in CHURN_SPLITS.items()}


# A small pipeline for the tests that run or compile it in the gcp environment
# (test_gcp_environment.py, a kit copy).
GCP_TEST_PIPELINE = "scoring"
# A pipeline run on a fresh copy before the one that writes its input: (pipeline, the missing
# dataset named first, its file, the pipelines that write it) (tests/test_new_user_errors.py).
FRESH_RUN = (
    "training",
    "model_input_table",
    "data/05_model_input/model_input_table.parquet",
    ["end_to_end", "feature_extraction"],
)


def registered_model(project: Path = BLUEPRINT, env: str = "local") -> dict:
    """``registered_model`` (name, alias) as the project's configuration resolves it for ``env``.

    Tests read it here instead of spelling the name, so a copy renamed in ``globals.yml``
    keeps passing.
    """
    from kedro.config import OmegaConfigLoader

    from ga4_mlops.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)
    return dict(loader["globals"]["registered_model"])


def model_params(project: Path = BLUEPRINT, env: str = "local") -> dict:
    """``model_training.model`` as the project's configuration resolves it for ``env``."""
    from kedro.config import OmegaConfigLoader

    from ga4_mlops.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)
    return copy.deepcopy(loader["parameters"]["model_training"]["model"])


def small_model_params(kind: str, n_trials: int = 4) -> dict:
    """base's ``model_training.model`` with ``kind`` selected, made quick for unit tests.

    Whatever ``kinds`` base configures (so a new kind is tested with its own settings): a
    few trials, early stopping after 20 rounds, a faster learning rate, one thread.
    """
    model = model_params()
    settings = model["kinds"][kind]
    settings["early_stopping_rounds"] = 20
    settings.update({"report_every": 5} if "report_every" in settings else {})
    fixed = settings["fixed"]
    fixed.update({key: value for key, value in QUICK.items() if key in fixed})
    model["optuna"].update(n_trials=n_trials, pruner_startup_trials=2, pruner_warmup_steps=10)
    return {**model, "kind": kind, "seed": 7, "max_refit_rows": None}


# Hyperparameters small_model_params sets where the kind has them.
QUICK = {"learning_rate": 0.1, "random_state": 7, "n_jobs": 1}


# Small enough for a test, big enough that every split has positives. The quality gate is
# opened because a tiny dataset cannot promise the real thresholds.
TINY_PARAMS = ",".join(
    [
        "data_generation.n_users=24000",  # steady state: ~1 in 4 simulated users is seen
        "model_training.model.optuna.n_trials=3",
        "model_explanation.max_rows=300",
        "model_registry.quality_gate.min_roc_auc=0.0",
        "model_registry.quality_gate.max_ece_over_base_rate=100.0",
        "model_registry.quality_gate.min_roc_auc_uplift_over_baseline=-1.0",
    ]
)


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("e2e") / "ga4-mlops")
    run_kedro(project, "run", "--env=local", "--params", TINY_PARAMS)
    return project

"""Small generated Santander tables, typed as banking_data writes them, and the YAML's
banking_models parameters."""

import pandas as pd
import pytest
import yaml

from recommender_gnn.pipelines.banking_data.contract import clean_santander
from recommender_gnn.pipelines.banking_data.generator import generate_santander
from tests.kedro_cli import BLUEPRINT


def yaml_params(name: str) -> dict:
    with open(BLUEPRINT / f"conf/base/parameters_{name}.yml") as file:
        return yaml.safe_load(file)[name]


@pytest.fixture(scope="session")
def santander() -> dict[str, pd.DataFrame]:
    generator = {**yaml_params("banking_data")["generator"], "seed": 7, "n_customers": 2500}
    raw = generate_santander(generator)
    return {
        "train": clean_santander(raw["train"], "train", has_products=True),
        "test": clean_santander(raw["test"], "test", has_products=False),
        "test_labels": raw["test_labels"],
        "oracle": raw["oracle"],
    }


@pytest.fixture
def params() -> dict:
    """banking_models' parameters, small: 2 lags, few rounds."""
    config = yaml_params("banking_models")
    config["features"]["lags"] = 2
    config["lightgbm"].update(seed=3, num_boost_round=40, eval_every=10, patience=2)
    return config


@pytest.fixture
def tuning() -> dict:
    return {"n_trials": 2, "seed": 5, "pruner": {"n_startup_trials": 2, "n_warmup_steps": 2}}

"""The pipeline runs end to end on an in-memory catalog with the YAML's parameters."""

import pandas as pd
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from recommender_gnn.pipelines.banking_data import create_pipeline
from recommender_gnn.pipelines.banking_data.contract import PRODUCTS
from tests.kedro_cli import BLUEPRINT, copy_project, run_kedro


class KeptMemoryDataset(MemoryDataset):
    """Keeps its data after the runner releases it, so the test can read intermediates."""

    def _release(self) -> None:
        pass


def test_pipeline_runs_on_an_in_memory_catalog():
    with open(BLUEPRINT / "conf/base/parameters_banking_data.yml") as file:
        config = yaml.safe_load(file)["banking_data"]
    assert config["generator"]["seed"] == "${globals:seed}"
    config["generator"].update(seed=42, n_customers=3000)
    params = {
        "banking_data": config,
        **{f"banking_data.{key}": value for key, value in config.items()},
    }
    kept = ["santander_train", "santander_test", "santander_test_labels"]
    catalog = DataCatalog(
        {
            **{f"params:{name}": MemoryDataset(value) for name, value in params.items()},
            **{name: KeptMemoryDataset() for name in kept},
        }
    )
    pipeline = create_pipeline()
    assert {node.name for node in pipeline.nodes} == {
        "generate_santander", "clean_santander_train", "clean_santander_test",
        "score_banking_references",
    }  # fmt: skip
    SequentialRunner().run(pipeline, catalog)
    train = catalog.load("santander_train")
    assert train["customer"].dtype == "int32" and (train[PRODUCTS].dtypes == "int8").all()
    test = catalog.load("santander_test")
    assert set(test["customer"]) == set(catalog.load("santander_test_labels")["ncodpers"])
    scores = catalog.load("banking_data_scores")
    assert isinstance(scores, pd.DataFrame)
    assert scores[["split", "model"]].to_numpy().tolist() == [
        ["validation", "oracle"], ["validation", "popularity"],
        ["test", "oracle"], ["test", "popularity"],
    ]  # fmt: skip
    assert (scores["n_customers"] == len(test)).all() and (scores["map_all"] > 0).all()


def test_kedro_run_writes_kaggles_files_and_scores_them_through_the_catalog(tmp_path):
    """The real CLI and catalog: Kaggle's file names in Latin-1 text, read back as strings,
    typed, and the references scored from the files (not from memory)."""
    project = copy_project(tmp_path / "recommender_gnn")
    run_kedro(
        project,
        "run",
        "--env=local",
        "--pipelines=banking_data",
        "--params",
        "banking_data.generator.n_customers=3000",
    )
    raw = project / "data" / "01_raw" / "santander"
    assert sorted(p.name for p in raw.iterdir()) == [
        "oracle_addition_probabilities.parquet",
        "test_labels.csv",
        "test_ver2.csv",
        "train_ver2.csv",
    ]
    header = (raw / "train_ver2.csv").read_text(encoding="latin-1").splitlines()[0]
    assert header.split(",")[:2] == ["fecha_dato", "ncodpers"]
    assert header.split(",")[-1] == PRODUCTS[-1]
    scores = pd.read_csv(project / "data" / "08_reporting" / "banking_data_scores.csv")
    test = scores[scores["split"] == "test"].set_index("model")
    assert test.loc["oracle", "n_adders"] > 0
    assert test.loc["oracle", "map_all"] > test.loc["popularity", "map_all"] > 0

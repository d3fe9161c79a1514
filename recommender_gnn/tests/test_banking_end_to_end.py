"""`kedro run --pipelines=banking_end_to_end` on Kaggle's two files alone, through the real CLI:
generated files stand in for train_ver2.csv/test_ver2.csv, with the generator's test labels and
oracle deleted, as a user who downloaded the competition's data has them."""

import mlflow
import pandas as pd

from recommender_gnn.pipelines.banking_data.contract import PRODUCTS
from tests.kedro_cli import copy_project, latest_version, run_kedro

RUN_PARAMS = (
    "model_selection.tuning.n_trials=2,model_selection.bootstrap.resamples=200,"
    "banking_models.lightgbm.num_boost_round=100,banking_models.gnn.max_epochs=6"
)


def test_banking_end_to_end_runs_on_the_real_files_alone(tmp_path):
    project = copy_project(tmp_path / "recommender_gnn")
    run_kedro(project, "run", "--env=local", "--pipelines=banking_data",
              "--params", "banking_data.generator.n_customers=3000")  # fmt: skip
    raw = project / "data" / "01_raw" / "santander"
    (raw / "test_labels.csv").unlink()
    (raw / "oracle_addition_probabilities.parquet").unlink()
    assert sorted(path.name for path in raw.iterdir()) == ["test_ver2.csv", "train_ver2.csv"]

    run_kedro(project, "run", "--env=local", "--pipelines=banking_end_to_end",
              "--params", RUN_PARAMS)  # fmt: skip
    data = project / "data"
    # The generator did not run again: the labels and the oracle are still absent.
    assert not (raw / "test_labels.csv").exists()
    test = pd.read_csv(raw / "test_ver2.csv", usecols=["ncodpers"], dtype=str)
    submission = pd.read_csv(latest_version(data / "07_model_output" / "banking_submission.csv"),
                             dtype=str, keep_default_na=False)  # fmt: skip
    assert submission["ncodpers"].tolist() == test["ncodpers"].str.strip().tolist()
    assert submission["ncodpers"].is_unique
    lists = submission["added_products"].str.split()
    assert lists.map(len).between(1, 7).all() and lists.explode().isin(PRODUCTS).all()
    # Without labels: validation rows only; without the oracle: no oracle row.
    scores = pd.read_csv(data / "08_reporting" / "banking_model_scores.csv")
    assert scores[["split", "model"]].to_numpy().tolist() == [
        ["validation", "popularity"], ["validation", "lightgbm"], ["validation", "gnn"],
        ["validation", "blend"],
    ]  # fmt: skip
    references = pd.read_csv(data / "08_reporting" / "banking_data_scores.csv")
    assert references[["split", "model"]].to_numpy().tolist() == [["validation", "popularity"]]
    # The refit model was registered under its own name and passed the default gate.
    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    champion = client.get_model_version_by_alias("recommender_gnn_banking", "champion")
    assert str(champion.version) == "1" and champion.tags["promoted"] == "True"

"""The banking registry: the pyfunc answers what the pipeline predicts, the quality gate's
outcomes, and the alias it moves in a real MLflow registry (sqlite in a tmp folder)."""

import mlflow
import pandas as pd
import pytest
from kedro.io import DatasetError

from recommender_gnn.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from recommender_gnn.datasets.signed_pyfunc_model_dataset import SignedPyfuncModelDataset
from recommender_gnn.pipelines.banking_models.model import fit, predict
from recommender_gnn.pipelines.banking_models.nodes import refit_datasets, validation_datasets
from recommender_gnn.pipelines.banking_models.registry import (
    decide_banking_promotion,
    package_banking_model,
    request_frame,
    score_banking_champion,
)
from tests.kedro_cli import BLUEPRINT

REGISTRY = {"input_example_customers": 2}


def _scores(lightgbm: float, popularity: float, oracle: float = 0.9) -> pd.DataFrame:
    # The GNN and the blend are other models, not baselines: their 0.8 must not be the bar.
    valid = [oracle, popularity, lightgbm, 0.8, 0.8]
    return pd.DataFrame({"split": ["validation"] * 5 + ["test"] * 5,
                         "model": ["oracle", "popularity", "lightgbm", "gnn", "blend"] * 2,
                         "map_all": valid + [0.9] * 5})  # fmt: skip


@pytest.mark.parametrize(
    ("lightgbm", "margin", "champion", "failed"),
    [
        (0.05, 0.01, None, []),
        (0.05, 0.03, None, ["uplift_over_best_baseline"]),  # 0.05 - 0.03 < 0.03
        (0.05, 0.0, 0.040, []),  # the packaged model's 0.045 is not worse than 0.040
        (0.05, 0.0, 0.050, ["uplift_over_champion"]),
    ],
)
def test_quality_gate(lightgbm, margin, champion, failed):
    gate = {"min_uplift_over_best_baseline": margin, "min_uplift_over_champion": 0.0}
    champion_scores = {"version": None} if champion is None else {"version": "2",
                                                                  "map_all": champion}  # fmt: skip
    card = {"valid_map_all_packaged": 0.045}
    decision, saved = decide_banking_promotion(card, champion_scores, _scores(lightgbm, 0.03), gate)
    assert decision is saved
    assert decision["failed_checks"] == failed and decision["promote"] is (not failed)
    # The oracle is the generator's ceiling, not a baseline: popularity is the strongest.
    assert decision["checks"]["uplift_over_best_baseline"]["baseline"] == "popularity"
    assert ("uplift_over_champion" in decision["checks"]) is (champion is not None)


@pytest.fixture(scope="module")
def fitted(santander):
    from tests.pipelines.banking_models.conftest import yaml_params

    params = yaml_params("banking_models")
    params["features"]["lags"] = 2
    chosen = {**params["lightgbm"], "seed": 3}
    train, test = santander["train"], santander["test"]
    rows, _ = refit_datasets(train, test, params)
    _, candidates = validation_datasets(train, params)
    return {
        "params": params,
        "chosen": chosen,
        "candidates": candidates,
        "good": fit(rows, chosen, params["features"], 40),
        "weak": fit(rows, chosen, params["features"], 1),
    }


def test_registry_gates_the_alias_and_serves_the_champion(fitted, santander, tmp_path,
                                                          monkeypatch):  # fmt: skip
    train, params, candidates = santander["train"], fitted["params"], fitted["candidates"]
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    # Runs in an experiment of this store, named explicitly: no global active experiment is
    # read (another test's id is not in this store) or left behind for later tests.
    experiment = mlflow.MlflowClient().create_experiment("banking_registry_test")
    logged = SignedPyfuncModelDataset(
        name="banking_model",
        registered_model_name="banking",
        log_model_args={"code_paths": [str(BLUEPRINT / "src/recommender_gnn")]},
        serving_packages=["mlflow", "lightgbm", "pandas", "numpy"],
        lock_file=str(BLUEPRINT / "requirements.lock"),
    )
    current = MlflowModelAliasDataset(model_name="banking", alias="champion", missing_ok=True)
    champion = MlflowModelAliasDataset(model_name="banking", alias="champion")
    scores = _scores(lightgbm=0.05, popularity=0.03)

    def register(booster, margin: float) -> dict:
        model, card = package_banking_model(booster, fitted["chosen"], candidates, train, params,
                                            REGISTRY)  # fmt: skip
        champion_scores = score_banking_champion(current.load(), candidates, train, params)
        gate = {"min_uplift_over_best_baseline": margin, "min_uplift_over_champion": 0.0}
        decision, _ = decide_banking_promotion(card, champion_scores, scores, gate)
        with mlflow.start_run(experiment_id=experiment):
            logged.save(model)
            champion.save(decision)
        return {"card": card, "champion": champion_scores, "decision": decision}

    # Uplift over popularity 0.02: a margin of 0.03 fails, the alias stays unset.
    first = register(fitted["good"], margin=0.03)
    assert first["decision"]["failed_checks"] == ["uplift_over_best_baseline"]
    with pytest.raises(DatasetError, match="No version of registered model 'banking' has alias"):
        champion.load()
    # A margin of 0.01 passes: version 2 becomes the champion.
    second = register(fitted["good"], margin=0.01)
    assert second["champion"] == {"version": None} and second["decision"]["promote"]
    assert champion.load().version == "2"
    # The weak model (1 round) passes the baseline margin but is worse than the champion,
    # re-scored on this validation month exactly as the good model's card measured itself.
    third = register(fitted["weak"], margin=-1.0)
    assert third["champion"]["version"] == "2"
    assert third["champion"]["map_all"] == pytest.approx(second["card"]["valid_map_all_packaged"])
    assert third["card"]["valid_map_all_packaged"] < third["champion"]["map_all"]
    assert third["decision"]["failed_checks"] == ["uplift_over_champion"]
    versions = mlflow.MlflowClient().search_model_versions("name='banking'")
    assert {str(v.version): v.tags["promoted"] for v in versions} == {
        "1": "False", "2": "True", "3": "False",
    }  # fmt: skip

    # One request to the champion, by alias: one customer's candidate row, as float64 (JSON).
    loaded = champion.load()
    assert loaded.version == "2"
    request = request_frame(candidates.head(1), params["features"])
    served = loaded.model.predict(request)
    expected = predict(fitted["good"], candidates.head(1), params["features"], 7)
    assert served["rank"].tolist() == list(range(1, 8))
    assert served["customer"].tolist() == [int(candidates["customer"].iloc[0])] * 7
    assert served["product"].tolist() == expected["product"].tolist()

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from kedro.io import DatasetError

from recommender_gnn.datasets.mlflow_model_alias_dataset import (
    MlflowModelAliasDataset,
    MlflowPyfuncModelDataset,
)
from recommender_gnn.pipelines.gnn_inference.nodes import predict_next_items
from recommender_gnn.pipelines.model_registry.nodes import (
    decide_promotion,
    package_model,
    score_champion,
    sessions_with_aids,
)
from recommender_gnn.pipelines.model_training.evaluation import otto_scores, predictions_frame
from recommender_gnn.pipelines.model_training.model import build_model
from tests.pipelines.session_data import (
    BLUEPRINT,
    N_ITEMS,
    item_map,
    tiny_split,
    trained_checkpoint,
)

GATE = {"metric": "score", "min_uplift_over_popularity": 0.0, "min_uplift_over_champion": 0.0}
PYFUNC = {"top_k": 20, "batch_size": 32, "input_example_sessions": 2}
INFERENCE = {
    "device": "cpu",
    "num_threads": 1,
    "top_k": 20,
    "batch_size": 32,
    "exclude_seen": False,
}


def _popularity(train: pd.DataFrame, valid: pd.DataFrame) -> pd.DataFrame:
    top = train["item"].value_counts().index.to_numpy()[:20]
    sessions = valid["session"].unique()
    return predictions_frame(
        sessions, np.tile(top, (sessions.size, 3, 1)), np.ones((sessions.size, 3, 20))
    )


def _untrained(checkpoint: dict) -> dict:
    torch.manual_seed(5)
    state = build_model(checkpoint["config"]).state_dict()
    return {**checkpoint, "state_dicts": dict.fromkeys(checkpoint["state_dicts"], state)}


@pytest.mark.parametrize(
    ("candidate", "popularity", "champion", "failed"),
    [
        (0.5, 0.2, None, []),
        (0.5, 0.2, 0.4, []),
        (0.5, 0.2, 0.6, ["uplift_over_champion"]),
        (0.1, 0.2, None, ["uplift_over_popularity"]),
    ],
)
def test_quality_gate(candidate, popularity, champion, failed, monkeypatch):
    from recommender_gnn.pipelines.model_registry import nodes

    monkeypatch.setattr(nodes, "otto_scores", lambda predictions, labels: {"score": popularity})
    champion_scores = {"version": None} if champion is None else {"version": "3", "score": champion}
    card = {"valid_metrics": {"score": candidate}}
    decision, report = decide_promotion(card, champion_scores, None, None, GATE)
    assert decision is report
    assert decision["failed_checks"] == failed
    assert decision["promote"] is (not failed)
    assert ("uplift_over_champion" in decision["checks"]) is (champion is not None)


def test_registry_promotes_better_models_and_keeps_the_champion_over_worse(tmp_path, monkeypatch):
    train, valid, labels = tiny_split()
    items = item_map(N_ITEMS)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    logged = MlflowPyfuncModelDataset(
        model_name="gnn",
        artifact_path="gnn_model",
        code_paths=[str(BLUEPRINT / "src/recommender_gnn")],
        pip_requirements=str(BLUEPRINT / "requirements.lock"),
    )
    current = MlflowModelAliasDataset(model_name="gnn", alias="champion", missing_ok=True)
    champion = MlflowModelAliasDataset(model_name="gnn", alias="champion")
    assert current.load() is None
    with pytest.raises(DatasetError, match="No version of registered model 'gnn' has alias"):
        champion.load()

    weak = trained_checkpoint(max_epochs=1)
    candidates = [weak, _untrained(weak), trained_checkpoint(max_epochs=2)]
    decisions, cards = [], []
    for checkpoint in candidates:
        model, card = package_model(checkpoint, items, valid, labels, PYFUNC)
        valid_predictions = predict_next_items(checkpoint, valid, INFERENCE, "valid_sessions")
        # The card measures the pyfunc; it scores exactly what gnn_inference predicts.
        assert card["valid_metrics"] == pytest.approx(otto_scores(valid_predictions, labels))
        champion_scores = score_champion(current.load(), valid, labels, items)
        decision, _ = decide_promotion(
            card, champion_scores, _popularity(train, valid), labels, GATE
        )
        with mlflow.start_run():
            logged.save(model)
            champion.save(decision)
        decisions.append(decision["promote"])
        cards.append(card)

    scores = [card["valid_metrics"]["score"] for card in cards]
    assert scores[1] < scores[0] < scores[2]  # random < one epoch < two epochs
    assert decisions == [True, False, True]
    versions = mlflow.MlflowClient().search_model_versions("name='gnn'")
    assert {str(v.version): v.tags["promoted"] for v in versions} == {
        "1": "True",
        "2": "False",
        "3": "True",
    }
    loaded = champion.load()
    assert loaded.version == "3"

    # The registered pyfunc answers in aids exactly what gnn_inference answers in item indices.
    served = loaded.model.predict(sessions_with_aids(valid, items))
    expected = predict_next_items(candidates[2], valid, INFERENCE, "valid_sessions")
    aids = items.set_index("item")["aid"]
    assert served["aid"].tolist() == aids.reindex(expected["item"]).tolist()
    np.testing.assert_allclose(served["score"], expected["score"], rtol=1e-5)
    assert score_champion(loaded, valid, labels, items)["score"] == pytest.approx(scores[2])

    info = mlflow.models.get_model_info("models:/gnn@champion")
    assert [c.name for c in info.signature.inputs] == ["session", "aid", "ts", "type"]
    assert "aid" in [c.name for c in info.signature.outputs]
    assert info.saved_input_example_info is not None


def test_pyfunc_rejects_input_without_its_columns():
    _, valid, labels = tiny_split()
    model, _ = package_model(trained_checkpoint(), item_map(N_ITEMS), valid, labels, PYFUNC)
    example = sessions_with_aids(valid, item_map(N_ITEMS))
    with pytest.raises(ValueError, match=r"model input lacks column\(s\) \['type'\]"):
        model.predict(None, example.drop(columns="type"))
    with pytest.raises(ValueError, match="'type' must be clicks, carts or orders"):
        model.predict(None, example.assign(type="views"))
    unknown = example.assign(aid=-1)  # aids the model never saw: no rows, no error
    assert model.predict(None, unknown).empty


def test_promotion_needs_a_version_registered_by_the_active_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    champion = MlflowModelAliasDataset(model_name="nothing", alias="champion")
    with pytest.raises(DatasetError, match="no active MLflow run"):
        champion.save({"promote": True})
    with (
        mlflow.start_run(),
        pytest.raises(DatasetError, match="No version of registered model 'nothing'"),
    ):
        champion.save({"promote": True})

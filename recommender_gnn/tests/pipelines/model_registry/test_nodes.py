import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from kedro.io import DatasetError

from recommender_gnn.datasets.mlflow_model_alias_dataset import MlflowModelAliasDataset
from recommender_gnn.datasets.signed_pyfunc_model_dataset import SignedPyfuncModelDataset
from recommender_gnn.models.session_gnn.evaluation import otto_scores
from recommender_gnn.models.session_gnn.model import build_model
from recommender_gnn.pipelines.gnn_inference.nodes import predict_next_items
from recommender_gnn.pipelines.model_registry.nodes import (
    decide_promotion,
    package_model,
    score_champion,
    sessions_with_aids,
)
from recommender_gnn.pipelines.seen_items.nodes import apply_policy
from tests.pipelines.session_data import (
    BLUEPRINT,
    N_ITEMS,
    item_map,
    tiny_split,
    trained_checkpoint,
)

GATE = {"metric": "score", "min_uplift_over_best_baseline": 0.0, "min_uplift_over_champion": 0.0}
SCORING = {"top_k": 20, "batch_size": 32, "block_items": 37, "num_threads": 1}
PYFUNC = {"input_example_sessions": 2, "scoring": SCORING}
SELECTION = {
    "seen_items": {
        "top_k": 20,
        "rank_offset": 1.0,
        "weights": [0.0, 1.0, float("inf")],
        "history": {"type_weights": [1.0, 6.0, 3.0], "decay": 0.9},
    }
}
POLICY = {"weights": {"clicks": 1.0, "carts": "first", "orders": 0.0}, "valid": {"score": 0.5}}
BEST_PARAMS = {"learning_rate": 0.03, "search_space": {"learning_rate": {}}}


def _popular(train: pd.DataFrame) -> pd.DataFrame:
    top = train["item"].value_counts().index.to_numpy()[:30]
    return pd.DataFrame(
        {
            "event_type": np.repeat(["clicks", "carts", "orders"], top.size),
            "item": np.tile(top, 3),
            "rank": np.tile(np.arange(1, top.size + 1), 3),
        }
    )


def _package(checkpoint, valid, labels):
    train, _, _ = tiny_split()
    return package_model(
        checkpoint, BEST_PARAMS, POLICY, _popular(train), item_map(N_ITEMS), valid, labels,
        PYFUNC, SELECTION,
    )  # fmt: skip


def _untrained(checkpoint: dict) -> dict:
    torch.manual_seed(5)
    state = build_model(checkpoint["config"]).state_dict()
    return {**checkpoint, "state_dicts": dict.fromkeys(checkpoint["state_dicts"], state)}


@pytest.mark.parametrize(
    ("gnn", "baseline", "champion", "failed"),
    [
        (0.5, 0.2, None, []),
        (0.5, 0.2, 0.4, []),
        (0.5, 0.2, 0.6, ["uplift_over_champion"]),
        (0.1, 0.2, None, ["uplift_over_best_baseline"]),
    ],
)
def test_quality_gate(gnn, baseline, champion, failed):
    report = {"strongest_baseline": "sknn", "valid_scores": {"gnn": gnn, "sknn": baseline}}
    champion_scores = {"version": None} if champion is None else {"version": "3", "score": champion}
    card = {"valid_metrics_packaged": {"score": 0.5}}
    decision, saved = decide_promotion(card, champion_scores, report, GATE)
    assert decision is saved
    assert decision["failed_checks"] == failed
    assert decision["promote"] is (not failed)
    assert ("uplift_over_champion" in decision["checks"]) is (champion is not None)
    assert decision["checks"]["uplift_over_best_baseline"]["baseline"] == "sknn"


def test_registry_promotes_better_models_and_keeps_the_champion_over_worse(tmp_path, monkeypatch):
    train, valid, labels = tiny_split()
    items = item_map(N_ITEMS)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    logged = SignedPyfuncModelDataset(
        name="gnn_model",
        registered_model_name="gnn",
        log_model_args={"code_paths": [str(BLUEPRINT / "src/recommender_gnn")]},
        serving_packages=["mlflow", "torch", "torch-geometric", "pandas", "numpy"],
        lock_file=str(BLUEPRINT / "requirements.lock"),
    )
    current = MlflowModelAliasDataset(model_name="gnn", alias="champion", missing_ok=True)
    champion = MlflowModelAliasDataset(model_name="gnn", alias="champion")
    assert current.load() is None
    with pytest.raises(DatasetError, match="No version of registered model 'gnn' has alias"):
        champion.load()

    weak = trained_checkpoint(max_epochs=1)
    candidates = [weak, _untrained(weak), trained_checkpoint(max_epochs=2)]
    report = {"strongest_baseline": "sknn", "valid_scores": {"gnn": 0.5, "sknn": 0.1}}
    decisions, cards = [], []
    for checkpoint in candidates:
        model, card = _package(checkpoint, valid, labels)
        # The card measures the pyfunc; it scores exactly what the pipeline predicts.
        expected = _pipeline_predictions(checkpoint, valid, train)
        assert card["valid_metrics_packaged"] == pytest.approx(otto_scores(expected, labels))
        champion_scores = score_champion(current.load(), valid, labels, items)
        decision, _ = decide_promotion(card, champion_scores, report, GATE)
        with mlflow.start_run():
            logged.save(model)
            champion.save(decision)
        decisions.append(decision["promote"])
        cards.append(card)

    scores = [card["valid_metrics_packaged"]["score"] for card in cards]
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

    # The registered pyfunc answers in aids exactly what the pipeline answers in item indices.
    served = loaded.model.predict(sessions_with_aids(valid, items))
    expected = _pipeline_predictions(candidates[2], valid, train)
    aids = items.set_index("item")["aid"]
    assert served["aid"].tolist() == aids.reindex(expected["item"]).tolist()
    np.testing.assert_allclose(served["score"], expected["score"], rtol=1e-5)
    assert score_champion(loaded, valid, labels, items)["score"] == pytest.approx(scores[2])

    info = mlflow.models.get_model_info("models:/gnn@champion")
    assert [c.name for c in info.signature.inputs] == ["session", "aid", "ts", "type"]
    assert "aid" in [c.name for c in info.signature.outputs]
    assert info.saved_input_example_info is not None


def _pipeline_predictions(checkpoint, valid, train):
    candidates = predict_next_items(checkpoint, valid, SCORING, "valid_sessions")
    return apply_policy(candidates, valid, _popular(train), POLICY, SELECTION)


def test_pyfunc_rejects_input_without_its_columns():
    _, valid, labels = tiny_split()
    model = _package(trained_checkpoint(), valid, labels)[0]["python_model"]
    example = sessions_with_aids(valid, item_map(N_ITEMS))
    with pytest.raises(ValueError, match=r"model input lacks column\(s\) \['type'\]"):
        model.predict(None, example.drop(columns="type"))
    with pytest.raises(ValueError, match="'type' must be clicks, carts or orders"):
        model.predict(None, example.assign(type="views"))
    unknown = example.assign(aid=-1)  # aids the model never saw: no rows, no error
    assert model.predict(None, unknown).empty

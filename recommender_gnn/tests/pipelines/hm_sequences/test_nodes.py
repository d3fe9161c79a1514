import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from recommender_gnn.pipelines.data_preparation.hm_adapter import transactions_to_interactions
from recommender_gnn.pipelines.hm_sequences import create_pipeline
from recommender_gnn.pipelines.hm_sequences.nodes import (
    WEEK,
    baseline_predictions,
    gnn_with_seen_items,
    map_and_recall,
    split_weeks,
)
from tests.pipelines.session_data import BLUEPRINT

DAY = 86_400


def _purchases(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["session", "item", "ts"])
    return frame.assign(type=2).astype({"session": "int64", "item": "int64", "type": "int8"})


def test_map_and_recall_by_hand():
    labels = pd.DataFrame(
        {"session": [1, 1, 2], "event_type": "orders", "item": [10, 11, 20]}
    )  # session 3 has predictions but no labels: ignored
    predictions = pd.DataFrame(
        {
            "session": [1, 1, 1, 2, 3],
            "event_type": "orders",
            "item": [5, 10, 11, 21, 1],
            "rank": [1, 2, 3, 1, 1],
            "score": 0.0,
        }
    )
    metrics = map_and_recall(predictions, labels, k=12)
    # session 1: hits at ranks 2 and 3 -> (1/2 + 2/3) / 2; session 2: no hit -> 0
    assert metrics["map_at_12"] == pytest.approx(((1 / 2 + 2 / 3) / 2 + 0) / 2)
    assert metrics["recall_at_12"] == pytest.approx((1.0 + 0.0) / 2)
    assert metrics["customers"] == 2
    assert map_and_recall(predictions, labels, k=2)["recall_at_2"] == pytest.approx(0.25)


def test_split_weeks_and_baselines():
    end = 100 * DAY
    purchases = _purchases(
        [
            (0, 1, end - 20 * DAY), (0, 2, end - 10 * DAY), (0, 3, end),  # buys in the test week
            (1, 1, end - 20 * DAY), (1, 4, end - 9 * DAY),  # buys in the validation week
            (2, 1, end - 30 * DAY), (2, 5, end - 3 * DAY),
            (3, 6, end - 2 * DAY),  # first purchase in the test week: no prefix, not scored
        ]
    )  # fmt: skip
    train, _, valid_labels, test_prefix, test_labels = split_weeks(purchases)
    assert train["ts"].max() < end - 2 * WEEK + DAY
    assert valid_labels[["session", "item"]].to_numpy().tolist() == [[0, 2], [1, 4]]
    assert sorted(test_labels["session"]) == [0, 2]
    assert test_prefix.groupby("session")["item"].apply(list).to_dict() == {0: [1, 2], 2: [1]}

    popularity, repurchase = baseline_predictions(
        train, test_prefix, {"top_k": 2, "popularity_weeks": 10}
    )
    # Only item 1 was bought before the validation week: lists may be shorter than top_k.
    assert popularity.groupby("session")["item"].apply(list).to_dict() == {0: [1], 2: [1]}
    # The customer's own articles, most recent first, then best sellers.
    assert repurchase.groupby("session")["item"].apply(list).to_dict() == {0: [2, 1], 2: [1]}
    assert repurchase["rank"].tolist() == [1, 2, 1]


def test_hm_pipeline_reuses_the_otto_nodes_and_reports_the_three_models():
    rng = np.random.default_rng(0)
    rows = []
    for customer in range(150):
        item, day = int(rng.integers(40)), int(rng.integers(0, 20))
        while day < 120:
            rows.append((customer, item, day * DAY))
            item = (item + 1) % 40 if rng.random() < 0.8 else int(rng.integers(40))
            day += int(rng.integers(3, 15))
    interactions = _purchases(rows)
    with open(BLUEPRINT / "conf/base/parameters_hm_sequences.yml") as file:
        config = yaml.safe_load(file)["hm_sequences"]
    shrunk = {"seed": 0, "progress_bar": False, "embedding_dim": 16, "max_epochs": 3,
              "batch_size": 64, "learning_rate": 0.03}  # fmt: skip
    config["model_training"].update(shrunk)
    config["gnn_inference"].update(device="cpu", batch_size=64)
    params = {
        "hm_sequences": config,
        **{f"hm_sequences.{key}": value for key, value in config.items()},
    }
    pipeline = create_pipeline().from_inputs("hm_interactions")
    catalog = DataCatalog(
        {
            "hm_interactions": MemoryDataset(interactions),
            "hm_item_map": MemoryDataset(pd.DataFrame({"item": np.arange(40)})),
            **{f"params:{name}": MemoryDataset(value) for name, value in params.items()},
        }
    )
    SequentialRunner().run(pipeline, catalog)
    metrics = catalog.load("hm_metrics").set_index("model")
    assert list(metrics.index) == ["popularity", "repurchase", "gnn_new_items", "gnn"]
    # The planted successor rule is learnable: the GNN must beat popularity clearly.
    assert metrics.loc["gnn", "recall_at_12"] > metrics.loc["popularity", "recall_at_12"] + 0.1
    history = catalog.load("hm_gnn_training_history")
    # Every H&M event is a purchase: only the orders head has labels to learn and stop on.
    assert (history["valid_clicks"] == 0).all()
    assert history["valid_orders"].max() > 0.3


def test_a_days_purchases_keep_the_files_order_not_the_article_ids():
    transactions = pd.DataFrame(
        {
            "t_dat": ["2020-09-02", "2020-09-01", "2020-09-01", "2020-09-01"],
            "customer_id": ["a" * 64] * 4,
            "article_id": ["0100000001", "0100000009", "0100000002", "0100000005"],
            "price": 0.01,
            "sales_channel_id": 2,
        }
    )
    interactions, item_map, _ = transactions_to_interactions(transactions)
    articles = item_map.set_index("item")["article_id"]
    bought = articles[interactions["item"]].tolist()
    assert bought == ["0100000009", "0100000002", "0100000005", "0100000001"]
    assert interactions["ts"].nunique() == 2  # one basket per day


def _policy_params() -> dict:
    with open(BLUEPRINT / "conf/base/parameters_hm_sequences.yml") as file:
        return yaml.safe_load(file)["hm_sequences"]


def test_own_articles_join_the_gnns_by_the_weight_with_the_best_validation_map():
    sessions = _purchases([(0, 1, 0), (0, 2, DAY), (1, 3, 0)])
    new = pd.DataFrame(
        {"session": [0, 0, 1, 1], "event_type": pd.Categorical(["orders"] * 4),
         "item": [7, 8, 7, 8], "rank": [1, 2, 1, 2], "score": [2.0, 1.0, 2.0, 1.0]}
    )  # fmt: skip
    train = _purchases([(5, 9, 0)])
    params = _policy_params()
    rebought = pd.DataFrame({"session": [0, 1], "event_type": "orders", "item": [2, 3]})
    predictions = gnn_with_seen_items(new, sessions, rebought, new, sessions, train, params)
    firsts = predictions[(predictions["event_type"] == "orders") & (predictions["rank"] == 1)]
    assert firsts["item"].tolist() == [2, 3]  # validation rewards own articles: they lead
    fresh = pd.DataFrame({"session": [0, 1], "event_type": "orders", "item": [7, 7]})
    predictions = gnn_with_seen_items(new, sessions, fresh, new, sessions, train, params)
    orders = predictions[predictions["event_type"] == "orders"]
    assert not set(zip(orders["session"], orders["item"], strict=True)) & {(0, 1), (0, 2), (1, 3)}

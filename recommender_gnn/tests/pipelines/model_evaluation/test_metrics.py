"""OTTO's Recall@20, MRR@20 and weighted score against hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from recommender_gnn.model_selection.metrics import (
    check_predictions,
    session_scores,
    summarise,
)
from recommender_gnn.pipelines.model_evaluation.nodes import (
    evaluate_models,
    evaluate_validation,
    evaluation_plot,
    oracle_predictions,
)


def predictions(rows):
    return pd.DataFrame(rows, columns=["session", "event_type", "item", "rank", "score"])


LABELS = pd.DataFrame(
    [
        (1, "clicks", 10),
        (2, "clicks", 20),
        (1, "carts", 11),
        (1, "carts", 12),
        (2, "orders", 21),
    ],
    columns=["session", "event_type", "item"],
)
MODEL = predictions(
    [
        (1, "clicks", 99, 1, 0.9),
        (1, "clicks", 10, 2, 0.8),  # next click at rank 2
        (2, "clicks", 7, 1, 0.9),  # session 2's click is missed
        (1, "carts", 11, 1, 0.5),  # one of two carts
        (2, "orders", 21, 4, 0.1),  # the order at rank 4
    ]
)


def test_recall_mrr_and_score_by_hand():
    metrics = summarise(session_scores(MODEL, LABELS))
    assert metrics["recall_clicks"] == pytest.approx(1 / 2)
    assert metrics["mrr_clicks"] == pytest.approx((1 / 2 + 0) / 2)
    assert metrics["recall_carts"] == pytest.approx(1 / 2)
    assert metrics["recall_orders"] == pytest.approx(1.0)
    assert metrics["score"] == pytest.approx(0.1 * 0.5 + 0.3 * 0.5 + 0.6 * 1.0)


def test_ranks_beyond_20_and_label_sets_over_20_follow_ottos_rule():
    labels = pd.DataFrame({"session": 1, "event_type": "carts", "item": range(30)})
    top = predictions([(1, "carts", item, item + 1, 1.0) for item in range(20)])
    # 20 hits of 30 labels: the denominator is capped at 20.
    assert summarise(session_scores(top, labels))["recall_carts"] == pytest.approx(1.0)
    late = predictions([(1, "clicks", 10, 21, 1.0)])
    clicks = LABELS[LABELS["event_type"] == "clicks"]
    assert summarise(session_scores(late, clicks))["recall_clicks"] == 0


def test_malformed_predictions_are_rejected_naming_the_model():
    duplicated = pd.concat([MODEL, MODEL.head(1)])
    with pytest.raises(
        ValueError, match=r"gnn_predictions field 'item': item 99 appears twice for session 1"
    ):
        check_predictions(duplicated, "gnn_predictions")
    too_many = predictions([(1, "clicks", item, item + 1, 1.0) for item in range(21)])
    with pytest.raises(ValueError, match=r"gnn_predictions has 21 items for session 1 \(clicks\)"):
        check_predictions(too_many, "gnn_predictions")
    with pytest.raises(ValueError, match=r"field 'event_type' holds 'views'"):
        check_predictions(MODEL.assign(event_type="views"), "gnn_predictions")


def test_evaluation_table_by_model_and_session_length_against_the_oracle():
    sessions = pd.DataFrame({"session": [1, 2, 2, 2, 2, 2], "item": 0, "ts": 0, "type": 0})
    perfect = predictions(
        [
            (1, "clicks", 10, 1, 1.0),
            (2, "clicks", 20, 1, 1.0),
            (1, "carts", 11, 1, 1.0),
            (1, "carts", 12, 2, 1.0),
            (2, "orders", 21, 1, 1.0),
        ]
    )
    table, by_length, mlflow_metrics = evaluate_models(
        LABELS, sessions, None, None, model=MODEL, oracle=perfect, absent=predictions([])
    )
    assert table["model"].tolist() == ["model", "oracle"]  # the empty one is left out
    row = table.set_index("model").loc["model"]
    assert row["recall_clicks_vs_oracle"] == pytest.approx(0.5)
    assert row["mrr_clicks_vs_oracle"] == pytest.approx(0.25)
    assert row["score_vs_oracle"] == pytest.approx(0.1 * 0.5 + 0.3 * 0.5 + 0.6 * 1.0)
    lengths = by_length.set_index(["model", "length"])
    assert lengths.loc[("model", "1"), "recall_clicks"] == 1.0  # session 1 has 1 event
    assert lengths.loc[("model", "5+"), "recall_clicks"] == 0.0  # session 2 has 5
    assert mlflow_metrics["oracle.score"] == {"value": 1.0, "step": 0}
    figure = evaluation_plot(table, by_length)
    assert len(figure.axes) == 2


def test_no_labels_gives_empty_tables():
    table, by_length, metrics = evaluate_models(LABELS.iloc[:0], LABELS, None, None, model=MODEL)
    assert table.empty and by_length.empty and metrics == {}
    assert np.isnan(summarise(session_scores(MODEL, LABELS.iloc[:0]))["recall_clicks"])


def test_validation_names_the_strongest_baseline_and_every_score_gets_an_interval():
    sessions = pd.DataFrame({"session": [1, 2], "item": 0, "ts": 0, "type": 0})
    weak = predictions([(2, "clicks", 20, 1, 1.0)])
    params = {
        "baselines": ["weak", "strong"],
        "bootstrap": {"resamples": 50, "seed": 0, "confidence": 0.95},
    }
    table, report = evaluate_validation(
        LABELS, sessions, params, weak=weak, strong=MODEL, candidate=MODEL
    )
    assert report["strongest_baseline"] == "strong"  # the candidate is no baseline
    row = table.set_index("model").loc["weak"]
    assert row["score_ci_low"] <= row["score"] <= row["score_ci_high"]
    assert table.set_index("model").loc["strong", "score_diff"] == 0.0
    assert row["score_diff"] < 0


def merged_scores(predictions, labels, top_k=20):
    """The rule as a plain pandas join, to hold the keyed lookup to."""
    top = predictions[predictions["rank"] <= top_k]
    matched = labels.merge(top, on=["session", "event_type", "item"], how="left")
    matched["hit"] = matched["rank"].notna()
    matched["rr"] = np.where(matched["hit"], 1.0 / matched["rank"], 0.0)
    grouped = matched.groupby(["session", "event_type"], as_index=False).agg(
        hits=("hit", "sum"), labels=("item", "size"), reciprocal_rank=("rr", "max")
    )
    grouped["labels"] = grouped["labels"].clip(upper=top_k)
    grouped["hits"] = np.minimum(grouped["hits"], grouped["labels"])
    return grouped


def test_keyed_scores_match_a_pandas_join_on_random_lists():
    rng = np.random.default_rng(7)
    rows = [
        (session, event_type, item, rank, 0.0)
        for session in range(60)
        for event_type in ("clicks", "carts", "orders")
        for rank, item in enumerate(rng.choice(50, 25, replace=False), start=1)
    ]
    ranked = predictions(rows).sample(frac=1.0, random_state=0)
    labels = pd.DataFrame(
        {
            "session": rng.integers(0, 70, 400),  # sessions 60-69: labels, no predictions
            "event_type": rng.choice(["clicks", "carts", "orders"], 400),
            "item": rng.integers(0, 60, 400),
        }
    ).drop_duplicates()
    expected = merged_scores(ranked, labels).sort_values(["session", "event_type"])
    scores = session_scores(ranked, labels)
    scores["event_type"] = scores["event_type"].astype(str)
    scores = scores.sort_values(["session", "event_type"])
    pd.testing.assert_frame_equal(
        scores.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )
    assert scores["hits"].sum() > 50


def test_oracle_predictions_decode_ids_and_keep_the_20_most_probable():
    rng = np.random.default_rng(11)
    session_map = pd.DataFrame(
        {
            "session": np.arange(8),
            "original_session": np.arange(8) * 10 + 5,
            "source": ["train"] * 3 + ["test"] * 5,
        }
    )
    item_map = pd.DataFrame({"item": np.arange(40), "aid": rng.permutation(40) * 3 + 1})
    oracle = pd.DataFrame(
        {
            "session": rng.choice([35, 45, 55, 65, 75, 15, 999], 600),  # 15: train, 999: none
            "event_type": rng.choice(["clicks", "carts", "orders"], 600),
            "aid": rng.choice(item_map["aid"].to_numpy(), 600),
            "probability": rng.integers(1, 6, 600) / 10,  # ties: the smaller item first
        }
    ).drop_duplicates(["session", "event_type", "aid"])
    result = oracle_predictions(oracle, item_map, session_map)
    check_predictions(result, "oracle_predictions")
    assert set(result["session"]) == {3, 4, 5, 6, 7}
    merged = oracle.merge(
        session_map.rename(columns={"session": "canonical", "original_session": "session"}),
        on="session",
    ).merge(item_map, on="aid")
    merged = merged[merged["source"] == "test"].sort_values(
        ["canonical", "event_type", "probability", "item"], ascending=[True, True, False, True]
    )
    expected = merged.groupby(["canonical", "event_type"]).head(20)
    got = result.assign(event_type=result["event_type"].astype(str)).sort_values(
        ["session", "event_type", "rank"]
    )
    assert (
        got[["session", "event_type", "item"]].to_numpy().tolist()
        == expected[["canonical", "event_type", "item"]].to_numpy().tolist()
    )

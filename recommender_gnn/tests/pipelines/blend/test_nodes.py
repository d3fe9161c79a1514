import pandas as pd
import pytest

from recommender_gnn.pipelines.blend.nodes import blend, otto_scores, tune_blend_weight

PARAMS = {"method": "rank", "rank_offset": 10, "top_k": 3, "weights": [0.0, 0.5, 1.0]}


def _ranked(rows: dict[tuple[int, str], list[int]]) -> pd.DataFrame:
    """Predictions from {(session, event_type): [items best first]}."""
    records = [
        (session, event_type, item, rank, 1.0 / rank)
        for (session, event_type), items in rows.items()
        for rank, item in enumerate(items, 1)
    ]
    return pd.DataFrame(records, columns=["session", "event_type", "item", "rank", "score"])


LABELS = pd.DataFrame(
    [(1, "clicks", 10), (1, "orders", 20), (1, "orders", 21), (2, "carts", 30)],
    columns=["session", "event_type", "item"],
)


def test_otto_scores_by_hand():
    predictions = _ranked(
        {(1, "clicks"): [9, 10], (1, "orders"): [20, 5], (2, "carts"): [1, 2], (2, "clicks"): [4]}
    )
    scores = otto_scores(predictions, LABELS)
    assert scores["clicks"] == 1.0
    assert scores["orders"] == 0.5  # one of two ordered items
    assert scores["carts"] == 0.0
    assert scores["score"] == pytest.approx(0.1 * 1.0 + 0.6 * 0.5)
    assert otto_scores(predictions, LABELS, k=1)["clicks"] == 0.0  # the click is at rank 2


def test_blend_weights_one_and_zero_return_each_model_and_shared_items_rise():
    gnn = _ranked({(1, "clicks"): [1, 2, 3, 4]})
    covisitation = _ranked({(1, "clicks"): [5, 6, 3, 7]})
    assert blend(gnn, covisitation, 1.0, PARAMS)["item"].tolist() == [1, 2, 3]
    assert blend(gnn, covisitation, 0.0, PARAMS)["item"].tolist() == [5, 6, 3]
    half = blend(gnn, covisitation, 0.5, PARAMS)
    assert half["item"].tolist()[0] == 3  # in both lists
    assert half["rank"].tolist() == [1, 2, 3]
    assert list(half.columns) == ["session", "event_type", "item", "rank", "score"]


def test_score_method_scales_each_list_to_unit_range():
    gnn = _ranked({(1, "clicks"): [1, 2]}).assign(score=[100.0, 0.0])
    covisitation = _ranked({(1, "clicks"): [2, 1]}).assign(score=[3.0, 2.0])
    blended = blend(gnn, covisitation, 0.75, {**PARAMS, "method": "score"})
    assert blended["item"].tolist() == [1, 2]
    assert blended["score"].tolist() == pytest.approx([0.75, 0.25])
    with pytest.raises(ValueError, match=r"params blend\.method must be 'rank' or 'score'"):
        blend(gnn, covisitation, 0.5, {**PARAMS, "method": "mean"})


def test_tuned_weight_beats_both_models_when_they_are_right_about_different_things():
    # Each model finds one of the two ordered items; the GNN the click, co-visitation the cart.
    gnn = _ranked({(1, "clicks"): [10, 1, 2], (1, "orders"): [20, 1, 2], (2, "carts"): [7, 8, 9]})
    covisitation = _ranked(
        {(1, "clicks"): [4, 5, 6], (1, "orders"): [21, 5, 6], (2, "carts"): [30, 8, 5]}
    )
    weights, search = tune_blend_weight(gnn, covisitation, LABELS, PARAMS)
    best = search.set_index("weight")["score"]
    assert best[1.0] == pytest.approx(0.1 + 0.6 * 0.5)
    assert best[0.0] == pytest.approx(0.3 + 0.6 * 0.5)
    assert best[0.5] == pytest.approx(1.0)
    # Per type: clicks only the GNN finds (any weight > 0 keeps it: the smallest wins), carts
    # only co-visitation (weight 0), orders need both lists (0.5).
    assert weights == {"clicks": 0.5, "carts": 0.0, "orders": 0.5}
    assert search.loc[search["chosen_carts"], "weight"].tolist() == [0.0]
    assert otto_scores(blend(gnn, covisitation, weights, PARAMS), LABELS)["score"] == 1.0


def test_per_type_weights_blend_each_type_on_its_own():
    gnn = _ranked({(1, "clicks"): [1, 2, 3], (1, "orders"): [1, 2, 3]})
    covisitation = _ranked({(1, "clicks"): [7, 8, 9], (1, "orders"): [7, 8, 9]})
    blended = blend(gnn, covisitation, {"clicks": 1.0, "carts": 0.5, "orders": 0.0}, PARAMS)
    by_type = blended.groupby("event_type")["item"].apply(list).to_dict()
    assert by_type == {"clicks": [1, 2, 3], "orders": [7, 8, 9]}


def test_blend_names_the_input_that_lacks_a_column():
    gnn = _ranked({(1, "clicks"): [1]})
    with pytest.raises(ValueError, match=r"covisitation predictions lacks column\(s\) \['rank'\]"):
        blend(gnn, gnn.drop(columns="rank"), 0.5, PARAMS)

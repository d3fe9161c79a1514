"""MAP@7 against hand-computed values, and the oracle and popularity rankings on small frames."""

import pandas as pd
import pytest

from recommender_gnn.pipelines.banking_data.contract import PRODUCTS
from recommender_gnn.pipelines.banking_data.metrics import (
    map_at_k,
    oracle_predictions,
    popularity_predictions,
    submission_to_long,
)


def ranked(lists: dict[int, list[str]]) -> pd.DataFrame:
    rows = [(c, p, r) for c, items in lists.items() for r, p in enumerate(items, start=1)]
    return pd.DataFrame(rows, columns=["customer", "product", "rank"])


def added(lists: dict[int, list[str]]) -> pd.DataFrame:
    rows = [(c, p) for c, items in lists.items() for p in items]
    return pd.DataFrame(rows, columns=["customer", "product"])


def test_map_at_7_matches_hand_computed_values():
    truth = added({1: ["A", "B"], 2: ["C"], 4: list("ABCDEFGH"), 5: ["A"]})
    predictions = ranked(
        {
            1: ["A", "X", "B"],  # hits at 1 and 3: (1/1 + 2/3) / 2
            2: ["X", "Y"],  # no hit: 0
            3: ["A"],  # adds nothing: 0 whatever is listed
            4: ["X", "A", "B", "C", "D", "E", "F", "G"],  # 8th is beyond k: 6 hits / min(7, 8)
            5: ["A"],  # not a listed customer: ignored
        }
    )
    scores = map_at_k(predictions, truth, customers=[1, 2, 3, 4], k=7)
    ap_1 = (1 + 2 / 3) / 2
    ap_4 = (1 / 2 + 2 / 3 + 3 / 4 + 4 / 5 + 5 / 6 + 6 / 7) / 7
    assert scores["n_customers"] == 4 and scores["n_adders"] == 3
    assert scores["map_all"] == pytest.approx((ap_1 + ap_4) / 4)
    assert scores["map_adders"] == pytest.approx((ap_1 + ap_4) / 3)


def test_a_listed_customer_without_predictions_or_additions_scores_zero():
    truth = added({1: ["A"]})
    assert map_at_k(ranked({1: ["A"]}), truth, customers=[1])["map_all"] == 1.0
    scores = map_at_k(ranked({1: ["A"]}), truth, customers=[1, 2, 3, 4])
    assert scores["map_all"] == pytest.approx(0.25) and scores["map_adders"] == 1.0
    assert map_at_k(ranked({2: ["A"]}), truth, customers=[1, 2])["map_all"] == 0.0


def test_ranks_not_row_order_decide_and_a_repeat_is_not_a_second_hit():
    predictions = ranked({1: ["B", "A"]}).iloc[::-1]  # rows in reverse, ranks unchanged
    assert map_at_k(predictions, added({1: ["A"]}), [1])["map_all"] == pytest.approx(1 / 2)
    repeated = ranked({1: ["A", "A", "B"]})  # the repeat takes rank 2: B is hit at rank 3
    expected = (1 + 2 / 3) / 2
    assert map_at_k(repeated, added({1: ["A", "B"]}), [1])["map_all"] == pytest.approx(expected)


def test_submission_form_reads_as_ranked_products():
    submission = pd.DataFrame({"ncodpers": [7, 8], "added_products": ["B A", ""]})
    long = submission_to_long(submission)
    assert long.to_numpy().tolist() == [[7, "B", 1], [7, "A", 2]]
    # As read back from the CSV (every field text): the same integer customers.
    as_read = submission.astype(str).replace({"added_products": {"": ""}})
    pd.testing.assert_frame_equal(submission_to_long(as_read), long)
    with pytest.raises(
        ValueError,
        match=r"submission: column 'ncodpers' must hold a positive integer customer id.*'x7'",
    ):
        submission_to_long(as_read.assign(ncodpers=["x7", "8"]))


def test_oracle_lists_the_most_probable_products_and_never_a_held_one():
    oracle = pd.DataFrame(0.0, index=range(2), columns=PRODUCTS)
    oracle.insert(0, "ncodpers", [10, 20])
    oracle.loc[0, ["ind_reca_fin_ult1", "ind_cco_fin_ult1", "ind_recibo_ult1"]] = [0.3, 0.1, 0.5]
    oracle.loc[1, "ind_tjcr_fin_ult1"] = 0.02
    predictions = oracle_predictions(oracle, k=2)
    assert predictions.to_numpy().tolist() == [
        [10, "ind_recibo_ult1", 1],
        [10, "ind_reca_fin_ult1", 2],
        [20, "ind_tjcr_fin_ult1", 1],
    ]


def test_popularity_uses_the_same_month_a_year_earlier_and_skips_held_products():
    cco, reca, recibo = "ind_cco_fin_ult1", "ind_reca_fin_ult1", "ind_recibo_ult1"
    rows = [  # (customer, month, held)
        (1, 4, []), (1, 5, [reca]), (2, 4, []), (2, 5, [reca, cco]),  # June 2015: reca x2, cco
        (3, 10, []), (3, 11, [recibo]), (4, 10, []), (4, 11, [recibo]), (4, 12, [recibo]),
        (8, 10, []), (8, 11, [recibo]),  # all months: recibo x3, reca x2, cco
        (7, 12, []), (5, 16, [reca]), (6, 16, [recibo]),
    ]  # fmt: skip
    frame = pd.DataFrame(0, index=range(len(rows)), columns=PRODUCTS, dtype="int8")
    frame.insert(0, "month", [m for _, m, _ in rows])
    frame.insert(0, "customer", [c for c, _, _ in rows])
    for index, (_, _, held) in enumerate(rows):
        frame.loc[index, held] = 1
    june = popularity_predictions(frame, month=17, k=7)  # June 2016: June 2015's additions
    assert june.to_numpy().tolist() == [[5, cco, 1], [6, reca, 1], [6, cco, 2]]
    # February 2016 (month 13): February 2015 had no additions, so all earlier months count.
    february = popularity_predictions(frame, month=13, k=2)
    assert february.to_numpy().tolist() == [[4, reca, 1], [4, cco, 2], [7, recibo, 1], [7, reca, 2]]

"""The multiclass metrics (``problem_type: multiclass``) against hand computations."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from ga4_mlops.pipelines.model_evaluation.grouping import expected_calibration_error
from ga4_mlops.pipelines.model_evaluation.multiclass_metrics import (
    CALIBRATION_COLUMNS,
    multiclass_brier,
    multiclass_log_loss,
    multiclass_metrics,
    multiclass_report,
    per_class_calibration,
    top_k_accuracy,
)

PROBABILITIES = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3]])
LABELS = np.array([0, 1, 2])


def test_log_loss_by_hand():
    expected = -(np.log(0.7) + np.log(0.8) + np.log(0.3)) / 3
    assert multiclass_log_loss(LABELS, PROBABILITIES) == pytest.approx(expected)


def test_log_loss_counts_every_class_even_one_absent_from_the_labels():
    # Class 2 never occurs: still three columns, the loss is that of the true classes only.
    assert multiclass_log_loss([0, 1], PROBABILITIES[:2]) == pytest.approx(
        -(np.log(0.7) + np.log(0.8)) / 2
    )


def test_top_k_accuracy_depends_on_k():
    # The true class is ranked 1st, 2nd, 3rd and 4th in the four rows.
    probabilities = np.array(
        [
            [0.4, 0.3, 0.2, 0.1],
            [0.4, 0.3, 0.2, 0.1],
            [0.4, 0.3, 0.2, 0.1],
            [0.4, 0.3, 0.2, 0.1],
        ]
    )
    labels = [0, 1, 2, 3]
    assert [top_k_accuracy(labels, probabilities, k) for k in (1, 2, 3)] == pytest.approx(
        [0.25, 0.5, 0.75]
    )


def test_top_k_accuracy_refuses_k_that_makes_every_row_a_hit():
    with pytest.raises(ValueError, match=r"1 <= k < 3.*model_evaluation.top_k"):
        top_k_accuracy(LABELS, PROBABILITIES, 3)
    with pytest.raises(ValueError, match="got k=0"):
        top_k_accuracy(LABELS, PROBABILITIES, 0)


def test_top_1_accuracy_with_two_classes():
    probabilities = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    assert top_k_accuracy([0, 1, 1], probabilities, 1) == pytest.approx(2 / 3)


def test_brier_by_hand_and_twice_the_binary_brier_for_two_classes():
    # (0.09 + 0.04 + 0.01) + (0.01 + 0.04 + 0.01) + (0.04 + 0.25 + 0.49), over 3 rows
    assert multiclass_brier(LABELS, PROBABILITIES) == pytest.approx((0.14 + 0.06 + 0.78) / 3)
    positive = np.array([0.1, 0.7, 0.4, 0.9])
    labels = np.array([0, 1, 1, 0])
    two_columns = np.column_stack([1 - positive, positive])
    assert multiclass_brier(labels, two_columns) == pytest.approx(
        2 * brier_score_loss(labels, positive)
    )


def test_per_class_calibration_by_hand_with_equal_width_bins():
    probabilities = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.2, 0.8]])
    labels = np.array([0, 1, 1, 1])
    table = per_class_calibration(labels, probabilities, ["a", "b"], n_bins=2, strategy="uniform")
    assert list(table.columns) == list(CALIBRATION_COLUMNS)
    assert table["class"].tolist() == ["a", "b"]
    assert table["count"].tolist() == [1, 3]
    np.testing.assert_allclose(table["actual_share"], [0.25, 0.75])
    np.testing.assert_allclose(table["mean_predicted"], [0.55, 0.45])
    # Class a: bin [0.5, 1] holds 0.9, 0.9 with one "a" (|0.5 - 0.9|), bin [0, 0.5) holds
    # 0.2, 0.2 with none (|0 - 0.2|): (0.4 + 0.2) / 2. Class b mirrors it.
    np.testing.assert_allclose(table["ece"], [0.3, 0.3])
    assert table.loc[0, "ece"] == pytest.approx(
        expected_calibration_error([1, 0, 0, 0], probabilities[:, 0], n_bins=2, strategy="uniform")
    )


def test_per_class_calibration_follows_the_strategy():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet([5.0, 1.0, 1.0], size=500)
    labels = np.array([rng.choice(3, p=row) for row in probabilities])
    names = ["x", "y", "z"]
    quantile = per_class_calibration(labels, probabilities, names, n_bins=5, strategy="quantile")
    uniform = per_class_calibration(labels, probabilities, names, n_bins=5, strategy="uniform")
    assert not np.allclose(quantile["ece"], uniform["ece"])
    np.testing.assert_allclose(quantile["actual_share"], uniform["actual_share"])


def test_metrics_are_flat_and_macro_ece_is_the_unweighted_mean():
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet([8.0, 1.0, 1.0, 0.5], size=800)
    labels = np.array([rng.choice(4, p=row) for row in probabilities])
    names = ["(none)", "Apparel", "Campus Collection", "Bags"]
    metrics = multiclass_metrics(labels, probabilities, names, top_k=(1, 2), n_bins=5)
    assert list(metrics)[:8] == [
        "n_rows",
        "n_classes",
        "log_loss",
        "top_1_accuracy",
        "top_2_accuracy",
        "brier",
        "macro_ece",
        "actual_share_none",
    ]
    assert "ece_campus_collection" in metrics and "mean_predicted_bags" in metrics
    calibration = per_class_calibration(labels, probabilities, names, n_bins=5)
    assert metrics["macro_ece"] == pytest.approx(calibration["ece"].mean())
    assert metrics["ece_apparel"] == pytest.approx(calibration.loc[1, "ece"])
    assert metrics["top_2_accuracy"] > metrics["top_1_accuracy"]
    assert (metrics["n_rows"], metrics["n_classes"]) == (800, 4)


def test_report_one_row_per_model_in_order_and_names_the_bad_model():
    probabilities = {"b": PROBABILITIES, "a": np.full((3, 3), 1 / 3)}
    report = multiclass_report(LABELS, probabilities, ["p", "q", "r"], top_k=(1,), n_bins=2)
    assert report["model"].tolist() == ["b", "a"]
    assert report.set_index("model").loc["a", "log_loss"] == pytest.approx(np.log(3))
    broken = {"b": PROBABILITIES, "a": PROBABILITIES * 0.5}
    with pytest.raises(ValueError, match=r"model 'a'.*sum to 1"):
        multiclass_report(LABELS, broken, ["p", "q", "r"], top_k=(1,))
    with pytest.raises(ValueError, match="probabilities is empty"):
        multiclass_report(LABELS, {}, ["p", "q", "r"])


@pytest.mark.parametrize(
    ("labels", "probabilities", "message"),
    [
        ([0, 1], PROBABILITIES, "equal lengths"),
        ([0, 1, 3], PROBABILITIES, r"class positions 0\.\.2"),
        ([0.0, 1.0, 2.0], PROBABILITIES, "class positions"),
        (LABELS, PROBABILITIES[:, 0], r"\[n, K\] array"),
        (LABELS, np.where(PROBABILITIES == 0.3, np.nan, PROBABILITIES), "no missing"),
        (LABELS, PROBABILITIES + np.diag([0.1, 0, 0]), "row 0 sums to 1.1"),
    ],
)
def test_bad_input_is_refused_with_the_reason(labels, probabilities, message):
    with pytest.raises(ValueError, match=message):
        multiclass_log_loss(labels, probabilities)


def test_float_rounding_of_the_row_sums_is_tolerated_without_warnings():
    rounded = PROBABILITIES.astype("float32") + np.float32(3e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = multiclass_log_loss(LABELS, rounded)
    assert loss == pytest.approx(multiclass_log_loss(LABELS, PROBABILITIES), abs=1e-5)

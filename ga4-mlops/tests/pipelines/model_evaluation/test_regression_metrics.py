import numpy as np
import pandas as pd
import pytest

from ga4_mlops.pipelines.model_evaluation.regression_metrics import (
    REPORT_COLUMNS,
    calibration_by_decile,
    decile_calibration_error,
    mae,
    normalized_gini,
    regression_report,
    rmse,
    total_relative_error,
)


def test_rmse_and_mae_by_hand():
    y_true = [0.0, 0.0, 10.0, 30.0]
    y_pred = [1.0, 0.0, 20.0, 20.0]
    # errors -1, 0, -10, 10: squares 1, 0, 100, 100 (mean 50.25), absolutes sum to 21
    assert rmse(y_true, y_pred) == pytest.approx(np.sqrt(50.25))
    assert mae(y_true, y_pred) == pytest.approx(5.25)


def test_normalized_gini_by_hand():
    y_true = [0.0, 0.0, 1.0, 3.0]
    y_pred = [0.1, 0.4, 0.3, 0.2]
    # Ordered by prediction: actual 0, 1, 3, 0 -> cumsum 0, 1, 4, 4 (sum 9):
    # Gini = (9 / 4 - 5 / 2) / 4 = -0.0625. Perfect order 3, 1, 0, 0 -> cumsum 3, 4, 4, 4
    # (sum 15): Gini = (15 / 4 - 5 / 2) / 4 = 0.3125. Normalized: -0.0625 / 0.3125 = -0.2.
    assert normalized_gini(y_true, y_pred) == pytest.approx(-0.2)


def test_normalized_gini_perfect_reversed_and_scale_free():
    y_true = np.array([0.0, 1.0, 2.0, 5.0, 9.0, 0.5])
    assert normalized_gini(y_true, y_true) == pytest.approx(1.0)
    assert normalized_gini(y_true, 3.0 * y_true + 7.0) == pytest.approx(1.0)
    assert normalized_gini(y_true, 10.0 - y_true) == pytest.approx(-1.0)


def test_normalized_gini_ties_are_a_random_order():
    y_true = np.array([0.0, 0.0, 4.0, 1.0, 0.0, 2.0])
    # A constant prediction is one tie: 0, whatever the row order.
    assert normalized_gini(y_true, np.ones(6)) == pytest.approx(0.0)
    assert normalized_gini(y_true[::-1], np.ones(6)) == pytest.approx(0.0)
    # Partial ties: the same value for any order of the input rows.
    y_pred = np.array([1.0, 1.0, 2.0, 1.0, 0.0, 2.0])
    order = np.array([5, 3, 0, 4, 2, 1])
    assert normalized_gini(y_true, y_pred) == pytest.approx(
        normalized_gini(y_true[order], y_pred[order])
    )


def test_normalized_gini_undefined_without_revenue():
    with pytest.raises(ValueError, match="sums to 0"):
        normalized_gini(np.zeros(5), np.arange(5.0))


def test_calibration_by_decile_on_a_constructed_example():
    y_pred = np.arange(1.0, 21.0)  # 20 distinct predictions: two rows per decile
    y_true = 2.0 * y_pred
    shuffle = np.random.default_rng(0).permutation(20)
    table = calibration_by_decile(y_true[shuffle], y_pred[shuffle])
    expected_predicted = np.arange(1.5, 20.0, 2.0)  # (1 + 2) / 2, (3 + 4) / 2, ...
    assert list(table.columns) == ["decile", "count", "mean_predicted", "mean_actual"]
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["count"].tolist() == [2] * 10
    np.testing.assert_allclose(table["mean_predicted"], expected_predicted)
    np.testing.assert_allclose(table["mean_actual"], 2.0 * expected_predicted)
    # Each decile is off by its mean prediction; equal weights: mean of 1.5, ..., 19.5.
    assert decile_calibration_error(y_true, y_pred) == pytest.approx(10.5)


def test_calibration_by_decile_keeps_ties_in_one_bin():
    table = calibration_by_decile([0.0, 3.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0])
    assert table.to_dict("list") == {
        "decile": [1],
        "count": [4],
        "mean_predicted": [2.0],
        "mean_actual": [1.0],
    }


def test_calibration_by_decile_puts_tied_zeros_in_the_lowest_deciles():
    # 6 zeros of 10 rows: the quantile edges at 10 %, ..., 50 % are all 0, so every zero is
    # in decile 1; the four positive predictions fill deciles 7 to 10.
    y_pred = np.array([0.0] * 6 + [1.0, 2.0, 3.0, 4.0])
    table = calibration_by_decile(np.zeros(10), y_pred)
    assert table["decile"].tolist() == [1, 7, 8, 9, 10]
    assert table["count"].tolist() == [6, 1, 1, 1, 1]
    # Weighted by rows: 0.6 * |0 - 0| + 0.1 * (1 + 2 + 3 + 4) = 1 (unweighted it would be 2).
    assert decile_calibration_error(np.zeros(10), y_pred) == pytest.approx(1.0)


def test_total_relative_error_by_hand():
    # 50 predicted against 40 realised: 25% too much.
    assert total_relative_error([0.0, 10.0, 30.0], [5.0, 5.0, 40.0]) == pytest.approx(0.25)
    assert total_relative_error([0.0, 10.0, 30.0], [0.0, 5.0, 15.0]) == pytest.approx(-0.5)


def test_regression_report_one_row_per_predictor_in_order():
    y_true = np.array([0.0, 0.0, 10.0, 30.0, 0.0, 5.0])
    predictions = {
        "model": np.array([1.0, 0.5, 8.0, 25.0, 0.0, 6.0]),
        "baseline": np.array([0.0, 0.0, 0.0, 60.0, 0.0, 0.0]),
        "oracle": y_true.copy(),
    }
    report = regression_report(y_true, predictions)
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert report["model"].tolist() == ["model", "baseline", "oracle"]
    for _, row in report.iterrows():
        y_pred = predictions[row["model"]]
        assert row["rows"] == 6
        assert row["rmse"] == pytest.approx(rmse(y_true, y_pred))
        assert row["mae"] == pytest.approx(mae(y_true, y_pred))
        assert row["normalized_gini"] == pytest.approx(normalized_gini(y_true, y_pred))
        assert row["total_relative_error"] == pytest.approx(total_relative_error(y_true, y_pred))
        assert row["decile_calibration_error"] == pytest.approx(
            decile_calibration_error(y_true, y_pred)
        )
        assert row["mean_predicted"] == pytest.approx(y_pred.mean())
        assert row["mean_actual"] == pytest.approx(y_true.mean())
    oracle = report.set_index("model").loc["oracle"]
    assert oracle["rmse"] == 0.0
    assert oracle["normalized_gini"] == pytest.approx(1.0)
    assert oracle["total_relative_error"] == pytest.approx(0.0)
    assert oracle["decile_calibration_error"] == pytest.approx(0.0)
    # The baseline puts 60 on the 30 spender: total 60 / 45 - 1.
    assert report.set_index("model").loc["baseline", "total_relative_error"] == pytest.approx(
        60.0 / 45.0 - 1.0
    )


@pytest.mark.parametrize(
    ("y_true", "predictions", "message"),
    [
        ([0.0, 1.0], {"model": [0.0, 1.0, 2.0]}, "equal lengths"),
        ([0.0, np.nan], {"model": [0.0, 1.0]}, "y_true must be finite"),
        ([0.0, 1.0], {"model": [0.0, np.nan]}, "must be finite"),
        ([0.0, 1.0], {}, "predictions is empty"),
    ],
)
def test_regression_report_rejects_bad_input(y_true, predictions, message):
    with pytest.raises(ValueError, match=message):
        regression_report(y_true, predictions)


def test_regression_report_accepts_series():
    y_true = pd.Series([0.0, 2.0, 4.0], index=[10, 20, 30])
    report = regression_report(y_true, {"model": pd.Series([0.0, 2.0, 4.0], index=[1, 2, 3])})
    assert report.loc[0, "rmse"] == 0.0

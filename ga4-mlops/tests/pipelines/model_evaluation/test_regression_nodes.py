"""The evaluation nodes with ``problem_type: regression`` (predicted revenue)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, roc_auc_score

from ga4_mlops.pipelines.model_evaluation.grouping import calibration_bins
from ga4_mlops.pipelines.model_evaluation.nodes import (
    calibration_plot,
    cumulative_gains_plot,
    evaluate_models,
    plot_roc_curves,
    precision_recall_plot,
    roc_plot,
)
from ga4_mlops.pipelines.model_evaluation.regression_metrics import (
    REPORT_COLUMNS,
    calibration_by_decile,
    regression_report,
)
from ga4_mlops.pipelines.model_evaluation.regression_plots import (
    plot_decile_calibration,
    plot_revenue_gains,
)

COLUMNS = {
    "id": ["user_pseudo_id", "snapshot_date"],
    "date": "snapshot_date",
    "target": "revenue_usd_horizon",
    "problem_type": "regression",
}
PARAMS = {
    "models": {
        "baseline": "baseline_prediction",
        "model_raw": "raw_prediction",
        "model_calibrated": "calibrated_prediction",
    },
    "top_fractions": [0.01, 0.05, 0.10],
    "n_bins": 10,
    "calibration_strategy": "quantile",
}


def revenue_predictions(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Zero-inflated, right-skewed revenue and three predictions of it, like test_predictions."""
    rng = np.random.default_rng(seed)
    propensity = 1 / (1 + np.exp(-rng.normal(-2.5, 1.0, n)))
    value = rng.lognormal(3.5, 0.6, n)
    expected = propensity * value
    revenue = np.where(rng.random(n) < propensity, rng.gamma(4.0, value / 4.0), 0.0)
    lookback = np.where(rng.random(n) < propensity, value, 0.0)  # many zeros, like the baseline
    return pd.DataFrame(
        {
            "user_pseudo_id": [f"u{i}" for i in range(n)],
            "snapshot_date": pd.Timestamp("2021-01-03"),
            "revenue_usd_horizon": revenue,
            "baseline_prediction": lookback,
            "raw_prediction": expected * 1.7,
            "calibrated_prediction": expected,
        }
    )


@pytest.fixture
def test_predictions() -> pd.DataFrame:
    return revenue_predictions()


def test_evaluate_models_returns_the_regression_report_and_named_mlflow_metrics(
    test_predictions,
):
    table, mlflow_metrics = evaluate_models(test_predictions, COLUMNS, PARAMS)
    expected = regression_report(
        test_predictions["revenue_usd_horizon"],
        {name: test_predictions[column] for name, column in PARAMS["models"].items()},
        n_bins=PARAMS["n_bins"],
    )
    pd.testing.assert_frame_equal(table, expected)
    assert table.columns.tolist() == list(REPORT_COLUMNS)
    assert table["model"].tolist() == ["baseline", "model_raw", "model_calibrated"]
    metric_names = [column for column in REPORT_COLUMNS if column != "model"]
    assert set(mlflow_metrics) == {
        f"{model}.{metric}" for model in table["model"] for metric in metric_names
    }
    calibrated = table.set_index("model").loc["model_calibrated"]
    assert mlflow_metrics["model_calibrated.normalized_gini"] == {
        "value": pytest.approx(calibrated["normalized_gini"]),
        "step": 0,
    }
    # The scaled prediction ranks like the calibrated one but over-predicts the total.
    raw = table.set_index("model").loc["model_raw"]
    assert raw["normalized_gini"] == pytest.approx(calibrated["normalized_gini"])
    assert raw["total_relative_error"] > calibrated["total_relative_error"] + 0.5


def test_evaluate_models_names_the_missing_column_and_the_bad_model(test_predictions):
    with pytest.raises(ValueError, match=r"test_predictions.*raw_prediction"):
        evaluate_models(test_predictions.drop(columns="raw_prediction"), COLUMNS, PARAMS)
    broken = test_predictions.assign(baseline_prediction=np.inf)
    with pytest.raises(ValueError, match=r"test_predictions.*'baseline'"):
        evaluate_models(broken, COLUMNS, PARAMS)


def test_decile_calibration_shares_the_grouping_of_calibration_bins():
    frame = revenue_predictions(n=1000, seed=3)
    actual, predicted = frame["revenue_usd_horizon"], frame["baseline_prediction"]
    deciles = calibration_by_decile(actual, predicted)
    bins = calibration_bins(actual, predicted, n_bins=10, strategy="quantile")
    np.testing.assert_array_equal(deciles["decile"], bins["bin"] + 1)
    np.testing.assert_array_equal(deciles["mean_predicted"], bins["mean_score"])
    np.testing.assert_array_equal(deciles["mean_actual"], bins["observed_rate"])
    assert len(deciles) < 10  # the baseline's many zeros share decile 1


def test_gains_curve_is_the_share_of_revenue_on_a_hand_case():
    revenue = np.array([100.0, 0, 50, 0, 0, 0, 0, 0, 0, 50])  # total 200
    ranked = np.linspace(1.0, 0.1, 10)  # descending: row order = targeting order
    tied = np.array([9.0, 5, 5, 5, 5, 1, 1, 1, 1, 1])
    figure = plot_revenue_gains(revenue, {"ranked": ranked, "tied": tied})
    lines = figure.axes[0].lines
    assert [line.get_label() for line in lines] == ["ranked", "tied", "random", "perfect"]
    targeted, captured = lines[0].get_data()
    assert targeted[1] == pytest.approx(0.1) and captured[1] == pytest.approx(0.5)
    assert captured[3] == pytest.approx(0.75)  # top 30%: 100 + 50 of 200
    assert captured[-1] == pytest.approx(1.0)
    # Top 20% with ties: row 0 (100) + one of four tied rows holding 50 -> 112.5 of 200.
    assert lines[1].get_data()[1][2] == pytest.approx(112.5 / 200)
    # Perfect: the largest amounts first.
    np.testing.assert_allclose(lines[3].get_data()[1][:4], [0, 0.5, 0.75, 1.0])


def test_gains_node_on_revenue_reaches_all_revenue_at_100pct(test_predictions):
    figure = cumulative_gains_plot(test_predictions, COLUMNS, PARAMS)
    assert figure.axes[0].get_ylabel() == "share of total revenue captured"
    model_line = figure.axes[0].lines[2]
    assert model_line.get_label() == "model_calibrated"
    captured = model_line.get_data()[1]
    assert captured[-1] == pytest.approx(1.0) and np.all(np.diff(captured) >= 0)
    # A useful model captures more than its share of users in the top 10%.
    assert captured[len(captured) // 10] > 0.25


def test_roc_and_precision_recall_rank_buyers_by_predicted_amount():
    # Buyers are rows 0-2 (revenue > 0); the prediction ranks them first but in the reverse
    # order of their amounts: perfect for finding buyers (AUC 1), not for ranking revenue.
    revenue = np.array([1.0, 5.0, 300.0, 0, 0, 0, 0, 0])
    predicted = np.array([900.0, 400, 150, 90, 60, 40, 10, 0])
    frame = pd.DataFrame(
        {
            "user_pseudo_id": [f"u{i}" for i in range(8)],
            "snapshot_date": pd.Timestamp("2021-01-03"),
            "revenue_usd_horizon": revenue,
            "baseline_prediction": revenue[::-1].copy(),
            "raw_prediction": predicted,
            "calibrated_prediction": predicted / 10,
        }
    )
    roc = roc_plot(frame, COLUMNS, PARAMS)
    labels = [line.get_label() for line in roc.axes[0].lines]
    assert "model_raw (AUC 1.000)" in labels
    expected_auc = roc_auc_score(revenue > 0, revenue[::-1])
    assert f"baseline (AUC {expected_auc:.3f})" in labels
    assert roc.axes[0].get_title().startswith("ROC curves: finding buyers")
    pr = precision_recall_plot(frame, COLUMNS, PARAMS)
    labels = [line.get_label() for line in pr.axes[0].lines]
    assert f"baseline (AP {average_precision_score(revenue > 0, revenue[::-1]):.3f})" in labels
    base_rate = pr.axes[0].lines[-1]
    assert base_rate.get_label() == "base rate"
    assert base_rate.get_ydata()[0] == pytest.approx(3 / 8)  # the share of buyers


def test_binary_curves_still_refuse_scores_that_are_not_probabilities():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        plot_roc_curves([0, 1, 0], {"model": [0.1, 2.0, 0.3]})
    figure = plot_roc_curves([0, 1, 0], {"model": [0.1, 2.0, 0.3]}, probabilities=False)
    assert figure.axes[0].lines[0].get_label() == "model (AUC 1.000)"


def test_calibration_plot_draws_mean_actual_against_mean_predicted_per_decile(test_predictions):
    open_figures = plt.get_fignums()
    figure = calibration_plot(test_predictions, COLUMNS, PARAMS)
    assert isinstance(figure, Figure) and plt.get_fignums() == open_figures
    diagram, counts = figure.axes
    assert len(diagram.lines) == 4  # three models + the diagonal
    calibrated = diagram.lines[2]
    assert calibrated.get_label() == "model_calibrated"
    deciles = calibration_by_decile(
        test_predictions["revenue_usd_horizon"], test_predictions["calibrated_prediction"]
    )
    np.testing.assert_allclose(calibrated.get_xdata(), deciles["mean_predicted"])
    np.testing.assert_allclose(calibrated.get_ydata(), deciles["mean_actual"])
    assert counts.lines[2].get_ydata().sum() == len(test_predictions)
    assert "revenue" in diagram.get_xlabel()


def test_revenue_plots_refuse_bad_input():
    with pytest.raises(ValueError, match=">= 0"):
        plot_revenue_gains([1.0, -2.0], {"model": [1.0, 2.0]})
    with pytest.raises(ValueError, match="sums to 0"):
        plot_revenue_gains([0.0, 0.0], {"model": [1.0, 2.0]})
    with pytest.raises(ValueError, match="equal lengths"):
        plot_decile_calibration([1.0, 0.0], {"model": [1.0]})
    with pytest.raises(ValueError, match="finite"):
        plot_decile_calibration([1.0, 0.0], {"model": [1.0, np.nan]})

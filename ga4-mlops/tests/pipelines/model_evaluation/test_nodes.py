import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from ga4_mlops.pipelines.model_evaluation.nodes import (
    calibration_bins,
    calibration_plot,
    classification_metrics,
    cumulative_gains_plot,
    evaluate_models,
    expected_calibration_error,
    plot_calibration_curves,
    plot_cumulative_gains,
    plot_precision_recall_curves,
    plot_roc_curves,
    precision_recall_plot,
    roc_plot,
    top_fraction_capture,
)

PARAMS = {
    "models": {
        "baseline": "baseline_probability",
        "model_raw": "raw_probability",
        "model_calibrated": "calibrated_probability",
    },
    "top_fractions": [0.01, 0.05, 0.10],
    "n_bins": 10,
    "calibration_strategy": "quantile",
}


def _labelled_scores(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rare positives whose probability is the score itself: a calibrated, useful score."""
    rng = np.random.default_rng(seed)
    scores = 1 / (1 + np.exp(-rng.normal(-3.0, 1.2, n)))
    return (rng.random(n) < scores).astype(int), scores


@pytest.fixture
def test_predictions(churn_columns) -> pd.DataFrame:
    labels, scores = _labelled_scores()
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(labels.size)],
            "as_of": pd.Timestamp("2024-02-04"),
            "churned": labels,
            "baseline_probability": np.clip(scores + rng.normal(0, 0.05, labels.size), 0, 1),
            "raw_probability": np.clip(scores * 1.8, 0, 1),
            "calibrated_probability": scores,
        }
    )


def test_metrics_match_sklearn():
    labels, scores = _labelled_scores()
    metrics = classification_metrics(labels, scores)
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert metrics["pr_auc"] == pytest.approx(average_precision_score(labels, scores))
    assert metrics["log_loss"] == pytest.approx(log_loss(labels, scores))
    assert metrics["brier"] == pytest.approx(brier_score_loss(labels, scores))
    assert metrics["base_rate"] == pytest.approx(labels.mean())
    assert set(metrics) >= {
        f"{kind}_at_{pct}pct" for kind in ("lift", "capture") for pct in (1, 5, 10)
    }


def test_ece_by_hand_with_equal_width_bins():
    # bin [0, 0.5): scores 0.1, 0.1, labels 0, 1 -> |0.5 - 0.1| = 0.4, weight 1/2
    # bin [0.5, 1]: scores 0.9, 0.9, labels 1, 1 -> |1.0 - 0.9| = 0.1, weight 1/2
    ece = expected_calibration_error(
        [0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9], n_bins=2, strategy="uniform"
    )
    assert ece == pytest.approx(0.25)


def test_calibration_bins_agree_with_sklearn_calibration_curve():
    labels, scores = _labelled_scores()
    for strategy in ("quantile", "uniform"):
        bins = calibration_bins(labels, scores, n_bins=10, strategy=strategy)
        observed, predicted = calibration_curve(labels, scores, n_bins=10, strategy=strategy)
        np.testing.assert_allclose(bins["observed_rate"], observed)
        np.testing.assert_allclose(bins["mean_score"], predicted)
        assert bins["count"].sum() == labels.size


def test_calibrated_score_has_small_ece_and_a_distorted_one_large():
    labels, scores = _labelled_scores(n=20000)
    assert expected_calibration_error(labels, scores) < 0.01
    assert expected_calibration_error(labels, np.clip(scores * 3, 0, 1)) > 0.05


def test_lift_and_capture_on_a_hand_case():
    labels = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]  # 3 positives in 10 rows, scores descending
    scores = np.linspace(0.9, 0.0, 10)
    metrics = classification_metrics(labels, scores, top_fractions=(0.1, 0.3))
    assert metrics["capture_at_10pct"] == pytest.approx(1 / 3)  # top row is positive
    assert metrics["lift_at_10pct"] == pytest.approx(1.0 / 0.3)
    assert metrics["capture_at_30pct"] == pytest.approx(2 / 3)  # 2 of the top 3
    assert metrics["lift_at_30pct"] == pytest.approx((2 / 3) / 0.3)


def test_ties_at_the_cutoff_share_credit_whatever_the_row_order():
    labels = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    constant = np.full(10, 0.2)
    # One place in the top 10% and ten tied rows: expected capture 1/10, lift 1.
    assert top_fraction_capture(labels, constant, 0.1) == pytest.approx(0.1)
    assert top_fraction_capture(labels[::-1], constant, 0.1) == pytest.approx(0.1)
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1])
    # Top 20%: row 0 (positive) + one of four tied rows holding one positive -> 1 + 1/4.
    assert top_fraction_capture(labels, scores, 0.2) == pytest.approx((1 + 0.25) / 2)


def test_perfect_and_random_scores():
    rng = np.random.default_rng(3)
    labels = (rng.random(20000) < 0.03).astype(int)
    perfect = classification_metrics(labels, labels * 0.9 + 0.05)
    assert perfect["roc_auc"] == 1.0
    assert perfect["pr_auc"] == pytest.approx(1.0)
    assert perfect["lift_at_1pct"] == pytest.approx(1 / labels.mean())
    assert perfect["capture_at_1pct"] == pytest.approx(200 / labels.sum())
    random = classification_metrics(labels, rng.random(labels.size))
    assert random["roc_auc"] == pytest.approx(0.5, abs=0.03)
    assert random["lift_at_10pct"] == pytest.approx(1.0, abs=0.2)
    assert random["pr_auc"] == pytest.approx(labels.mean(), abs=0.01)


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([0, 0, 0], [0.1, 0.2, 0.3], "only class 0"),
        ([0, 1], [0.1, 0.2, 0.3], "equal lengths"),
        ([0, 2], [0.1, 0.2], "only 0 and 1"),
        ([0, 1], [0.1, 1.2], r"probabilities in \[0, 1\]"),
        ([0, 1], [0.1, np.nan], "no missing values"),
    ],
)
def test_bad_input_is_refused(labels, scores, message):
    with pytest.raises(ValueError, match=message):
        classification_metrics(labels, scores)


def test_evaluate_models_returns_one_row_per_model_and_mlflow_metrics(
    test_predictions, churn_columns
):
    table, mlflow_metrics = evaluate_models(test_predictions, churn_columns, PARAMS)
    assert isinstance(table, pd.DataFrame)
    assert table["model"].tolist() == ["baseline", "model_raw", "model_calibrated"]
    assert {"roc_auc", "pr_auc", "log_loss", "brier", "ece", "base_rate", "lift_at_1pct"} <= set(
        table.columns
    )
    calibrated = table.set_index("model").loc["model_calibrated"]
    assert mlflow_metrics["model_calibrated.roc_auc"] == {
        "value": pytest.approx(calibrated["roc_auc"]),
        "step": 0,
    }
    assert len(mlflow_metrics) == 3 * (len(table.columns) - 1)
    assert all(isinstance(v["value"], float) for v in mlflow_metrics.values())
    # The distorted raw score ranks like the calibrated one but is worse calibrated.
    raw = table.set_index("model").loc["model_raw"]
    assert raw["roc_auc"] == pytest.approx(calibrated["roc_auc"], abs=1e-3)
    assert raw["ece"] > calibrated["ece"]


def test_evaluate_models_names_the_missing_column(test_predictions, churn_columns):
    with pytest.raises(ValueError, match=r"test_predictions.*raw_probability"):
        evaluate_models(test_predictions.drop(columns="raw_probability"), churn_columns, PARAMS)


def test_evaluate_models_names_the_model_with_bad_scores(test_predictions, churn_columns):
    broken = test_predictions.assign(baseline_probability=np.nan)
    with pytest.raises(ValueError, match="model 'baseline'"):
        evaluate_models(broken, churn_columns, PARAMS)


def test_plot_helpers_draw_one_curve_per_model_plus_references():
    labels, scores = _labelled_scores()
    curves = {"model": scores, "oracle": np.clip(scores * 1.1, 0, 1)}
    open_figures = plt.get_fignums()

    for strategy, scale in (("quantile", "linear"), ("uniform", "log")):
        calibration = plot_calibration_curves(labels, curves, strategy=strategy)
        diagram, counts = calibration.axes
        assert len(diagram.lines) == 3  # two models + the diagonal
        assert len(counts.lines) == 2 and counts.get_yscale() == scale
        rows_per_bin = counts.lines[0].get_ydata()
        assert rows_per_bin.sum() == labels.size
    for plot in (plot_roc_curves, plot_precision_recall_curves):
        figure = plot(labels, curves)
        assert isinstance(figure, Figure) and len(figure.axes) == 1
        assert len(figure.axes[0].lines) == 3  # two models + chance / base rate
    gains = plot_cumulative_gains(labels, curves)
    lines = gains.axes[0].lines
    assert len(lines) == 4  # two models + random + perfect
    targeted, captured = lines[0].get_data()
    assert captured[0] == 0 and captured[-1] == pytest.approx(1.0) and targeted[-1] == 1
    assert plt.get_fignums() == open_figures  # nothing left open in pyplot


def test_plot_nodes_return_figures(test_predictions, churn_columns):
    for node in (calibration_plot, roc_plot, precision_recall_plot, cumulative_gains_plot):
        figure = node(test_predictions, churn_columns, PARAMS)
        assert isinstance(figure, Figure)
        assert {"baseline", "model_raw", "model_calibrated"} <= {
            line.get_label().split(" (")[0] for line in figure.axes[0].lines
        }

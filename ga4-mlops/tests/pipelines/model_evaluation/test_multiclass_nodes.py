"""The evaluation nodes with ``problem_type: multiclass`` (category of the next purchase)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ga4_mlops.pipelines.model_evaluation import create_pipeline
from ga4_mlops.pipelines.model_evaluation.multiclass_metrics import (
    multiclass_report,
    reliability_bins,
)
from ga4_mlops.pipelines.model_evaluation.multiclass_plots import one_vs_rest_scores
from ga4_mlops.pipelines.model_evaluation.nodes import (
    calibration_plot,
    cumulative_gains_plot,
    evaluate_models,
    precision_recall_plot,
    roc_plot,
)
from ga4_mlops.problem_types import class_score_columns

from .mlflow_catalog import artifact_paths, parameters, run_in_memory, run_metrics, run_with_catalog

CLASSES = [
    "(none)",
    "Apparel",
    "Bags",
    "Drinkware",
    "Electronics",
    "Campus Collection",
]
COLUMNS = {
    "id": ["user_pseudo_id", "snapshot_date"],
    "date": "snapshot_date",
    "target": "next_purchase_category",
    "problem_type": "multiclass",
    "classes": CLASSES,
}
PARAMS = {
    "models": {"baseline": "baseline", "model_raw": "raw", "model_calibrated": "calibrated"},
    "top_fractions": [0.01, 0.05, 0.10],
    "n_bins": 10,
    "calibration_strategy": "quantile",
    "top_k": [1, 3],
}


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def multiclass_predictions(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    """~90% "(none)", the rest shared by the categories; the calibrated model's probabilities
    are the truth, the raw model is over-confident, the baseline predicts the class shares."""
    rng = np.random.default_rng(seed)
    shares = np.array([0.9, 0.03, 0.025, 0.02, 0.015, 0.01])
    logits = np.log(shares) + rng.normal(0.0, 1.2, (n, len(shares)))
    truth = _softmax(logits)
    codes = (rng.random(n)[:, None] > np.cumsum(truth, axis=1)).sum(axis=1)
    frame = pd.DataFrame(
        {
            "user_pseudo_id": [f"u{i}" for i in range(n)],
            "snapshot_date": pd.Timestamp("2021-01-03"),
            "next_purchase_category": np.array(CLASSES)[codes],
        }
    )
    observed = np.bincount(codes, minlength=len(CLASSES)) / n
    roles = {
        "baseline": np.tile(observed, (n, 1)),
        "raw": _softmax(2.5 * logits),
        "calibrated": truth,
    }
    for role, probabilities in roles.items():
        frame[class_score_columns(role, COLUMNS)] = probabilities
    return frame


@pytest.fixture(scope="module")
def test_predictions() -> pd.DataFrame:
    return multiclass_predictions()


def _arrays(frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    codes = pd.Categorical(frame[COLUMNS["target"]], categories=CLASSES).codes
    return codes.astype("int64"), {
        name: frame[class_score_columns(role, COLUMNS)].to_numpy()
        for name, role in PARAMS["models"].items()
    }


def test_evaluate_models_returns_the_multiclass_report_and_named_mlflow_metrics(
    test_predictions,
):
    table, mlflow_metrics = evaluate_models(test_predictions, COLUMNS, PARAMS)
    codes, probabilities = _arrays(test_predictions)
    expected = multiclass_report(codes, probabilities, CLASSES, top_k=(1, 3), n_bins=10)
    pd.testing.assert_frame_equal(table, expected)
    assert table["model"].tolist() == ["baseline", "model_raw", "model_calibrated"]
    assert {"log_loss", "top_1_accuracy", "top_3_accuracy", "brier", "macro_ece"} <= set(table)
    assert "ece_campus_collection" in table and "actual_share_none" in table
    metric_names = [column for column in table.columns if column != "model"]
    assert set(mlflow_metrics) == {f"{m}.{name}" for m in table["model"] for name in metric_names}
    rows = table.set_index("model")
    assert mlflow_metrics["model_calibrated.top_3_accuracy"] == {
        "value": pytest.approx(rows.loc["model_calibrated", "top_3_accuracy"]),
        "step": 0,
    }
    # The constant baseline always guesses "(none)" first: top-1 is the share of "(none)".
    assert rows.loc["baseline", "top_1_accuracy"] == pytest.approx(
        rows.loc["baseline", "actual_share_none"]
    )
    # The over-confident raw model ranks like the truth but is worse calibrated and scored.
    assert rows.loc["model_raw", "top_1_accuracy"] == pytest.approx(
        rows.loc["model_calibrated", "top_1_accuracy"]
    )
    assert rows.loc["model_raw", "log_loss"] > rows.loc["model_calibrated", "log_loss"]
    assert rows.loc["model_raw", "macro_ece"] > rows.loc["model_calibrated", "macro_ece"]


def test_top_k_comes_from_params(test_predictions):
    table, _ = evaluate_models(test_predictions, COLUMNS, {**PARAMS, "top_k": [2]})
    assert "top_2_accuracy" in table and "top_3_accuracy" not in table
    default, _ = evaluate_models(
        test_predictions, COLUMNS, {k: v for k, v in PARAMS.items() if k != "top_k"}
    )
    assert {"top_1_accuracy", "top_3_accuracy"} <= set(default)
    with pytest.raises(ValueError, match=r"test_predictions.*model_evaluation.top_k"):
        evaluate_models(test_predictions, COLUMNS, {**PARAMS, "top_k": [len(CLASSES)]})


def test_errors_name_the_dataset_and_the_column(test_predictions):
    missing = test_predictions.drop(columns="raw_probability_bags")
    with pytest.raises(ValueError, match=r"test_predictions.*raw_probability_bags"):
        evaluate_models(missing, COLUMNS, PARAMS)
    unknown = test_predictions.assign(next_purchase_category="Books")
    with pytest.raises(ValueError, match=r"test_predictions.*next_purchase_category.*Books"):
        roc_plot(unknown, COLUMNS, PARAMS)
    unlabelled = test_predictions.assign(next_purchase_category=None)
    with pytest.raises(ValueError, match=r"test_predictions.*missing labels"):
        calibration_plot(unlabelled, COLUMNS, PARAMS)
    broken = test_predictions.assign(baseline_probability_none=0.5)
    with pytest.raises(ValueError, match=r"test_predictions.*'baseline'.*sum to 1"):
        evaluate_models(broken, COLUMNS, PARAMS)


def test_calibration_plot_has_a_reliability_panel_per_class(test_predictions):
    open_figures = plt.get_fignums()
    figure = calibration_plot(test_predictions, COLUMNS, PARAMS)
    assert isinstance(figure, Figure) and plt.get_fignums() == open_figures
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert len(panels) == len(CLASSES)
    codes, probabilities = _arrays(test_predictions)
    bags = panels[CLASSES.index("Bags")]
    assert bags.get_title().startswith("Bags (share")
    assert [line.get_label() for line in bags.lines] == [*PARAMS["models"], "perfect"]
    bins = reliability_bins(codes, probabilities["model_calibrated"], 2, 10, "quantile")
    np.testing.assert_allclose(bags.lines[2].get_xdata(), bins["mean_score"])
    np.testing.assert_allclose(bags.lines[2].get_ydata(), bins["observed_rate"])


def test_gains_plot_is_top_k_accuracy_for_every_k(test_predictions):
    figure = cumulative_gains_plot(test_predictions, COLUMNS, PARAMS)
    axes = figure.axes[0]
    table, _ = evaluate_models(test_predictions, COLUMNS, PARAMS)
    calibrated = axes.lines[2]
    assert calibrated.get_label().startswith("model_calibrated (top-1")
    ks, accuracy = calibrated.get_data()
    assert list(ks) == list(range(1, len(CLASSES) + 1))
    rows = table.set_index("model")
    assert accuracy[0] == pytest.approx(rows.loc["model_calibrated", "top_1_accuracy"])
    assert accuracy[2] == pytest.approx(rows.loc["model_calibrated", "top_3_accuracy"])
    assert accuracy[-1] == 1.0 and np.all(np.diff(accuracy) >= 0)
    shares = axes.lines[-1].get_ydata()
    assert shares[0] == pytest.approx(rows.loc["baseline", "actual_share_none"])
    assert accuracy[0] > shares[0]  # the model beats always guessing "(none)"


def test_roc_and_precision_recall_plots_give_one_bar_per_class_and_model(test_predictions):
    codes, probabilities = _arrays(test_predictions)
    for node, metric in ((roc_plot, "roc_auc"), (precision_recall_plot, "average_precision")):
        axes = node(test_predictions, COLUMNS, PARAMS).axes[0]
        assert [label.get_text() for label in axes.get_yticklabels()] == CLASSES
        bars = axes.containers
        assert len(bars) == len(PARAMS["models"])
        expected = one_vs_rest_scores(codes, probabilities["model_calibrated"], metric)
        np.testing.assert_allclose([bar.get_width() for bar in bars[2]], expected)
    # The constant baseline separates nothing: AUC 0.5 for every class.
    baseline = roc_plot(test_predictions, COLUMNS, PARAMS).axes[0].containers[0]
    np.testing.assert_allclose([bar.get_width() for bar in baseline], 0.5)


def test_a_class_absent_from_the_test_split_has_no_auc():
    codes = np.array([0, 0, 1, 1])
    scores = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.3, 0.6, 0.1]])
    values = one_vs_rest_scores(codes, scores, "roc_auc")
    np.testing.assert_allclose(values[:2], [1.0, 1.0])
    assert np.isnan(values[2])


def test_pipeline_saves_the_multiclass_outputs_through_the_real_catalog(
    tmp_path, monkeypatch, test_predictions
):
    # Base YAML parameters with the role prefixes conf/multiclass gives models, default top_k.
    params = {**parameters("model_evaluation", tmp_path), "models": PARAMS["models"]}
    outputs = run_in_memory(
        create_pipeline(),
        {
            "test_predictions": test_predictions,
            "params:model_input.columns": COLUMNS,
            "params:model_evaluation": params,
        },
    )
    table = outputs["evaluation_metrics"]
    assert "top_3_accuracy" in table
    with run_with_catalog("model_evaluation", tmp_path, monkeypatch) as (catalog, run_id):
        for name, data in outputs.items():
            catalog.save(name, data)
        reloaded = catalog.load("evaluation_metrics")
    pd.testing.assert_frame_equal(reloaded, table, check_dtype=False)
    metrics = run_metrics(tmp_path, run_id)
    assert metrics["test.model_calibrated.ece_campus_collection"] == pytest.approx(
        table.set_index("model").loc["model_calibrated", "ece_campus_collection"]
    )
    assert len(artifact_paths(tmp_path, run_id)) == 5  # the report and the four plots

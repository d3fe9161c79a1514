import logging
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ga4_mlops.pipelines.drift_monitoring.nodes import (
    build_drift_reference,
    categorical_psi,
    category_drift,
    compute_drift_report,
    drift_mlflow_metrics,
    drift_status,
    drift_tables,
    numeric_bin_counts,
    numeric_bin_edges,
    numeric_psi,
    plot_drift,
    psi_from_counts,
    summarise_drift,
)

PARAMS = {
    "n_bins": 10,
    "epsilon": 1e-4,
    "score_column": "calibrated_probability",
    "thresholds": {"warn": 0.1, "alert": 0.2},
}


def _scores(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "calibrated_probability": 1 / (1 + np.exp(-(rng.normal(-2, 1, n) + shift))),
        }
    )


@pytest.fixture
def drift_inputs(churn_table, churn_columns):
    """Train rows vs scoring rows of the churn table, and their scores (no drift planted)."""
    last_date = churn_table[churn_columns["date"]].max()
    train_set = churn_table.loc[churn_table[churn_columns["date"]] < last_date]
    scoring_set = churn_table.loc[churn_table[churn_columns["date"]] == last_date]
    return train_set, scoring_set, _scores(len(train_set), 0), _scores(len(scoring_set), 1)


def test_psi_from_counts_by_hand():
    # shares 0.5/0.5 -> 0.8/0.2: 0.3 ln(1.6) + (-0.3) ln(0.4)
    expected = 0.3 * math.log(1.6) - 0.3 * math.log(0.4)
    assert psi_from_counts(np.array([50, 50]), np.array([80, 20])) == pytest.approx(expected)


def test_identical_distributions_have_zero_psi():
    values = pd.Series(np.random.default_rng(0).normal(size=2000))
    assert numeric_psi(values, values) == 0.0
    categories = pd.Series(["a", "b", None, "b", "c"] * 100)
    assert categorical_psi(categories, categories) == 0.0


def test_same_distribution_is_stable_and_a_shift_is_an_alert():
    rng = np.random.default_rng(1)
    reference = pd.Series(rng.normal(size=5000))
    same = pd.Series(rng.normal(size=5000))
    shifted = pd.Series(rng.normal(loc=1.0, size=5000))
    assert numeric_psi(reference, same) < 0.02
    assert numeric_psi(reference, shifted) > 0.5


def test_nan_is_a_bin_of_its_own():
    reference = pd.Series(np.arange(1.0, 101.0))
    current = reference.copy()
    current[:30] = np.nan
    edges = numeric_bin_edges(reference, n_bins=4)
    np.testing.assert_array_equal(edges, [25.75, 50.5, 75.25])
    counts = numeric_bin_counts(current, edges)
    assert counts.tolist() == [0, 20, 25, 25, 0, 30]  # 4 value bins, zero, NaN last
    assert numeric_psi(reference, current, n_bins=4) > 0.2


def test_zero_is_a_bin_of_its_own_and_quantiles_describe_the_rest():
    # 95% zeros: quantile bins over all values would be one bin holding everything.
    rng = np.random.default_rng(3)
    reference = pd.Series(np.where(rng.random(20_000) < 0.95, 0.0, rng.gamma(2.0, 50.0, 20_000)))
    edges = numeric_bin_edges(reference, n_bins=10)
    assert edges.size == 9 and (edges > 0).all()
    counts = numeric_bin_counts(reference, edges)
    assert counts[-2] == (reference == 0).sum() and counts[-1] == 0
    # Same share of buyers, but they spend twice as much: visible now, while bins at the
    # quantiles of all values (the old way: one bin of zeros, one of the rest) see nothing.
    richer = reference * 2.0
    old_edges = np.unique(np.quantile(reference, np.linspace(0, 1, 11))[1:-1])
    old_counts = [
        np.bincount(np.searchsorted(old_edges, v, side="right"), minlength=11)
        for v in (reference, richer)
    ]
    assert psi_from_counts(*old_counts) < 0.001
    assert numeric_psi(reference, richer) > 0.03
    # Same spenders, a different share of buyers: the zero bin shows it.
    fewer = reference.where(rng.random(20_000) < 0.5, 0.0)
    assert numeric_psi(reference, fewer) > 0.01
    assert numeric_psi(reference, reference.sample(frac=1.0, random_state=1)) == 0.0


def test_constant_column_separates_below_equal_and_above():
    constant = pd.Series(np.full(500, 5.0))
    assert numeric_psi(constant, constant) == 0.0
    assert numeric_psi(constant, pd.Series(np.full(500, 6.0))) > 1.0
    assert numeric_psi(constant, pd.Series(np.full(500, 4.0))) > 1.0
    assert numeric_bin_counts(
        pd.Series([4.0, 5.0, 5.0, 7.0, 0.0]), numeric_bin_edges(constant, 10)
    ).tolist() == [1, 2, 1, 1, 0]
    zeros = pd.Series(np.zeros(500))
    assert numeric_bin_edges(zeros, 10).size == 0
    assert numeric_psi(zeros, pd.Series(np.ones(500))) > 1.0


def test_values_outside_the_reference_range_fall_in_the_outer_bins():
    edges = numeric_bin_edges(pd.Series(np.arange(1.0, 11.0)), n_bins=2)
    assert numeric_bin_counts(pd.Series([-100.0, 100.0]), edges).tolist() == [1, 1, 0, 0]


def test_unseen_categories_are_pooled_by_hand():
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    current = pd.Series(["a"] * 50 + ["b"] * 25 + ["c"] * 15 + ["d"] * 10)
    epsilon = 1e-4
    # bins a, b, missing, unseen: reference 0.5, 0.5, eps, eps; current 0.5, 0.25, eps, 0.25
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.25 - epsilon) * math.log(0.25 / epsilon)
    assert categorical_psi(reference, current, epsilon) == pytest.approx(expected)


def test_missing_is_a_category_even_when_the_reference_has_none():
    reference = pd.Series(["a", "b"] * 100)
    current = pd.Series(["a", "b", None, np.nan] * 50)
    assert categorical_psi(reference, current) > 1.0
    assert categorical_psi(current, current.sample(frac=1.0, random_state=0)) == 0.0


def test_status_thresholds():
    assert [drift_status(p, 0.1, 0.2) for p in (0.0, 0.099, 0.1, 0.19, 0.2, 3.0)] == [
        "ok",
        "ok",
        "warn",
        "warn",
        "alert",
        "alert",
    ]


def test_report_without_drift(drift_inputs, churn_columns, caplog):
    report = compute_drift_report(*drift_inputs, churn_columns, PARAMS)
    assert report.columns.tolist() == ["feature", "kind", "psi", "status"]
    assert sorted(report["feature"]) == sorted(
        [*churn_columns["numeric"], *churn_columns["categorical"], "calibrated_probability"]
    )
    assert report.set_index("feature")["kind"].to_dict() == {
        "tenure_months": "numeric",
        "support_tickets": "numeric",
        "plan": "categorical",
        "region": "categorical",
        "calibrated_probability": "score",
    }
    assert report["psi"].is_monotonic_decreasing
    assert (report["status"] == "ok").all()
    with caplog.at_level(logging.WARNING):
        summary = summarise_drift(report)
    assert summary["drift_detected"] is False and summary["alert_features"] == []
    assert not caplog.records


def test_report_flags_planted_drift_and_warns(drift_inputs, churn_columns, caplog):
    train_set, scoring_set, train_scores, _ = drift_inputs
    drifted = scoring_set.assign(
        tenure_months=scoring_set["tenure_months"] * 3,
        plan=np.where(np.arange(len(scoring_set)) % 2 == 0, "enterprise", scoring_set["plan"]),
    )
    report = compute_drift_report(
        train_set, drifted, train_scores, _scores(len(drifted), 1, shift=1.5), churn_columns, PARAMS
    )
    status = report.set_index("feature")["status"]
    assert status["tenure_months"] == "alert"
    assert status["plan"] == "alert"  # half the rows in an unseen plan
    assert status["calibrated_probability"] == "alert"
    assert status["region"] == "ok"
    with caplog.at_level(logging.WARNING):
        summary = summarise_drift(report)
    assert summary["drift_detected"] is True
    assert set(summary["alert_features"]) == {"tenure_months", "plan", "calibrated_probability"}
    assert summary["score_psi"] == pytest.approx(
        report.set_index("feature").loc["calibrated_probability", "psi"]
    )
    assert summary["max_psi"] == pytest.approx(report["psi"].max())
    assert isinstance(summary["max_psi"], float)
    warning = " ".join(
        record.getMessage() for record in caplog.records if record.levelno == logging.WARNING
    )
    assert "tenure_months" in warning and "plan" in warning


def test_missing_columns_name_the_dataset(drift_inputs, churn_columns):
    train_set, scoring_set, train_scores, batch_scores = drift_inputs
    with pytest.raises(
        ValueError, match=r"'scoring_set' lacks categorical column\(s\) \['region'\]"
    ):
        compute_drift_report(
            train_set,
            scoring_set.drop(columns="region"),
            train_scores,
            batch_scores,
            churn_columns,
            PARAMS,
        )
    with pytest.raises(ValueError, match="'batch_scores' lacks score column"):
        compute_drift_report(
            train_set,
            scoring_set,
            train_scores,
            batch_scores.drop(columns="calibrated_probability"),
            churn_columns,
            PARAMS,
        )


def test_mlflow_metrics_and_plot(drift_inputs, churn_columns):
    report = compute_drift_report(*drift_inputs, churn_columns, PARAMS)
    metrics = drift_mlflow_metrics(report)
    assert set(metrics) == {f"psi.{feature}" for feature in report["feature"]} | {"max_psi"}
    assert metrics["psi.plan"] == {
        "value": pytest.approx(report.set_index("feature").loc["plan", "psi"]),
        "step": 0,
    }
    figure = plot_drift(report, PARAMS)
    assert isinstance(figure, Figure) and len(figure.axes) == 1
    axes = figure.axes[0]
    assert len(axes.patches) == len(report)  # one bar per feature
    assert sorted(line.get_xdata()[0] for line in axes.lines) == [0.1, 0.2]  # thresholds


def test_metric_names_are_made_mlflow_safe():
    report = pd.DataFrame(
        {"feature": ["price (€)"], "kind": ["numeric"], "psi": [0.05], "status": ["ok"]}
    )
    assert list(drift_mlflow_metrics(report)) == ["psi.price ___", "max_psi"]


def test_psi_by_category_names_what_moved_and_sums_to_the_feature_psi():
    reference = pd.DataFrame({"medium": ["organic"] * 60 + ["cpc"] * 30 + [None] * 10})
    current = pd.DataFrame({"medium": ["organic"] * 30 + ["cpc"] * 50 + ["email"] * 20})
    table = category_drift(reference, current, {"categorical": ["medium"]}, PARAMS)
    assert table["category"].tolist()[0] == "__unseen__"  # email, never seen: largest term
    shares = table.set_index("category")
    assert shares.loc["cpc", "reference_share"] == pytest.approx(0.3)
    assert shares.loc["cpc", "current_share"] == pytest.approx(0.5)
    assert shares.loc["__missing__", "current_share"] == 0.0
    assert table["psi_term"].sum() == pytest.approx(
        categorical_psi(reference["medium"], current["medium"])
    )


def test_the_drift_reference_keeps_the_features_and_the_scores(drift_inputs, churn_columns):
    train_set, _, test_scores, _ = drift_inputs
    params = {**PARAMS, "reference_max_rows": len(train_set)}
    rows, scores, summary = build_drift_reference(train_set, test_scores, churn_columns, params)
    assert summary["train_rows"] == len(train_set) and summary["test_scores"] == len(scores)
    features = [*churn_columns["numeric"], *churn_columns["categorical"]]
    pd.testing.assert_frame_equal(rows, train_set[features].reset_index(drop=True))
    pd.testing.assert_frame_equal(scores, test_scores[["calibrated_probability"]])


def test_the_drift_reference_samples_a_large_train_split(drift_inputs, churn_columns):
    train_set, _, test_scores, _ = drift_inputs
    params = {**PARAMS, "reference_max_rows": 100}
    rows, _, summary = build_drift_reference(train_set, test_scores, churn_columns, params)
    again, _, _ = build_drift_reference(train_set, test_scores, churn_columns, params)
    assert summary == {**summary, "train_rows": 100, "train_rows_of": len(train_set)}
    assert len(rows) == 100
    pd.testing.assert_frame_equal(rows, again)  # a fixed seed: the same sample every run


def test_the_drift_reference_names_the_missing_score_column(drift_inputs, churn_columns):
    train_set, _, test_scores, _ = drift_inputs
    params = {**PARAMS, "reference_max_rows": 10}
    with pytest.raises(
        ValueError,
        match=r"dataset 'test_predictions' lacks score column\(s\) \['calibrated_probability'\]",
    ):
        build_drift_reference(
            train_set, test_scores.drop(columns="calibrated_probability"), churn_columns, params
        )


def test_drift_tables_are_the_report_and_the_categories(drift_inputs, churn_columns):
    report, categories = drift_tables(*drift_inputs, churn_columns, PARAMS)
    pd.testing.assert_frame_equal(
        report, compute_drift_report(*drift_inputs, churn_columns, PARAMS)
    )
    train_set, scoring_set, _, _ = drift_inputs
    pd.testing.assert_frame_equal(
        categories, category_drift(train_set, scoring_set, churn_columns, PARAMS)
    )

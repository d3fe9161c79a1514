"""Drift of predicted revenue (problem_type regression): the score column is
``calibrated_prediction``, a heavy-tailed amount (> 0 for a Tweedie or two-part model), and
amounts may be zero-inflated (realized revenue, the lookback baseline)."""

import numpy as np
import pandas as pd
import pytest

from ga4_mlops.pipelines.drift_monitoring.nodes import (
    build_drift_reference,
    compute_drift_report,
    numeric_bin_counts,
    numeric_bin_edges,
    numeric_psi,
)

PARAMS = {
    "n_bins": 10,
    "epsilon": 1e-4,
    "score_column": "calibrated_prediction",
    "thresholds": {"warn": 0.1, "alert": 0.2},
    "reference_max_rows": 100000,
}


def revenue(n: int, seed: int, buyers: float = 0.05, scale: float = 30.0) -> np.ndarray:
    """Zero for most users, a gamma amount for a share ``buyers`` of them."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < buyers, np.round(rng.gamma(2.0, scale, n), 2), 0.0)


def predictions(n: int, seed: int, scale: float = 4.0) -> pd.DataFrame:
    """test_predictions of a regression run: expected revenue > 0, right-skewed."""
    rng = np.random.default_rng(seed)
    amount = rng.gamma(0.5, scale, n)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "revenue": revenue(n, seed + 100),
            "baseline_prediction": amount,
            "raw_prediction": amount * 1.1,
            "calibrated_prediction": amount,
        }
    )


def test_the_zero_inflated_amount_keeps_quantile_bins_for_the_buyers():
    reference = pd.Series(revenue(20000, 0))
    edges = numeric_bin_edges(reference, n_bins=10)
    assert edges.size == 9 and edges.min() > 0  # deciles of the ~5% buyers, not of the zeros
    counts = numeric_bin_counts(reference, edges)
    assert counts[-2] == (reference == 0).sum() and counts[-1] == 0  # zeros, then NaN
    buyers = counts[:-2]
    assert buyers.min() > 0.8 * buyers.mean() and buyers.max() < 1.2 * buyers.mean()
    same = numeric_psi(reference, pd.Series(revenue(20000, 1)))
    assert same < 0.005
    # PSI weighs each bin by its share: the buyers' shifts count with their 5% of the users.
    # Buyers who spend twice as much, or twice as many buyers, move it well above noise ...
    assert numeric_psi(reference, pd.Series(revenue(20000, 1, scale=60.0))) > 10 * same
    assert numeric_psi(reference, pd.Series(revenue(20000, 1, buyers=0.1))) > 10 * same
    # ... and four times as many buyers is an alert; so is a current without any buyer.
    assert numeric_psi(reference, pd.Series(revenue(20000, 1, buyers=0.2))) > 0.2
    assert numeric_psi(reference, pd.Series(np.zeros(20000))) > 0.1


@pytest.mark.parametrize(
    ("shape", "status"), [({}, "ok"), ({"scale": 8.0}, "warn"), ({"scale": 16.0}, "alert")]
)
def test_predicted_revenue_is_the_score_of_the_drift_report(
    churn_table, churn_columns, shape, status
):
    last = churn_table[churn_columns["date"]].max()
    train_set = churn_table.loc[churn_table[churn_columns["date"]] < last]
    scoring_set = churn_table.loc[churn_table[churn_columns["date"]] == last]
    rows, reference_scores, summary = build_drift_reference(
        train_set, predictions(20000, 0), churn_columns, PARAMS
    )
    assert list(reference_scores.columns) == ["calibrated_prediction"]
    expected_mean = predictions(20000, 0)["calibrated_prediction"].mean()
    assert summary["test_score_mean"] == pytest.approx(expected_mean)
    current = predictions(len(scoring_set), 1, **shape)[["customer_id", "calibrated_prediction"]]
    report = compute_drift_report(
        rows, scoring_set, reference_scores, current, churn_columns, PARAMS
    )
    score = report.loc[report["kind"] == "score"].iloc[0]
    assert score["feature"] == "calibrated_prediction"
    assert score["status"] == status


def test_a_probability_score_column_under_a_revenue_model_is_named(churn_table, churn_columns):
    with pytest.raises(
        ValueError,
        match=r"'test_predictions' lacks score column\(s\) \['calibrated_probability'\] "
        r"\(params drift_monitoring.score_column: .* calibrated_prediction for regression\)",
    ):
        build_drift_reference(
            churn_table,
            predictions(100, 0),
            churn_columns,
            {**PARAMS, "score_column": "calibrated_probability"},
        )

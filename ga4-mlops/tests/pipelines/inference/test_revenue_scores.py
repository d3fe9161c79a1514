"""Inference of predicted revenue (problem_type regression): the as-of date's rows scored by a
real LightGBM Tweedie model served through MLflow, partitioned by date, and its drift report
on the score column ``calibrated_prediction``."""

import mlflow
import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator

from ga4_mlops.datasets.mlflow_model_alias_dataset import RegisteredModel
from ga4_mlops.pipelines.batch_scoring.nodes import score_rows
from ga4_mlops.pipelines.drift_monitoring.nodes import compute_drift_report
from ga4_mlops.pipelines.feature_engineering.nodes import encode_features, fit_preprocessor
from ga4_mlops.pipelines.inference.nodes import as_of_partitions, prepare_inference_rows
from ga4_mlops.pipelines.model_training.regression import make_tweedie_regressor
from ga4_mlops.scoring_model import PropensityModel

COLUMNS = {
    "id": ["user_pseudo_id", "snapshot_date"],
    "date": "snapshot_date",
    "target": "revenue_usd_horizon",
    "problem_type": "regression",
    "numeric": ["sessions_lookback", "revenue_usd_lookback"],
    "categorical": ["country"],
}
DRIFT = {
    "n_bins": 10,
    "epsilon": 1e-4,
    "score_column": "calibrated_prediction",
    "thresholds": {"warn": 0.1, "alert": 0.2},
}
WINDOW = pd.DataFrame(
    {
        "data_first_date": [pd.Timestamp("2020-11-01")],
        "data_last_date": [pd.Timestamp("2021-01-31")],
    }
)


def users(n: int, as_of: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sessions = rng.poisson(2.0, n).astype(float)
    lookback = np.where(rng.random(n) < 0.1, rng.gamma(2.0, 30.0, n), 0.0)
    expected = 0.5 * sessions + 0.2 * lookback
    return pd.DataFrame(
        {
            "user_pseudo_id": [f"{seed}-{i:05d}" for i in range(n)],
            "snapshot_date": pd.Timestamp(as_of),
            "sessions_lookback": sessions,
            "revenue_usd_lookback": lookback,
            "country": rng.choice(["Canada", "India", None], n),
            "revenue_usd_horizon": np.where(
                rng.random(n) < np.clip(expected / 20, 0, 1), rng.gamma(3.0, 10.0, n), 0.0
            ),
        }
    )


def test_an_as_of_date_is_scored_with_predicted_revenue_and_its_drift_reported(tmp_path):
    train = users(3000, "2021-01-04", seed=0)
    preprocessor = fit_preprocessor(train, COLUMNS, {"min_category_count": 5})
    features = encode_features(preprocessor, train)
    model = make_tweedie_regressor({"n_estimators": 40}).fit(features, train["revenue_usd_horizon"])
    mlflow.pyfunc.save_model(
        tmp_path / "model",
        python_model=PropensityModel(
            preprocessor, model, FrozenEstimator(model), problem_type="regression"
        ),
    )
    champion = RegisteredModel(
        "revenue", "champion", "1", mlflow.pyfunc.load_model(str(tmp_path / "model"))
    )

    snapshot = users(1000, "2021-02-01", seed=1).drop(columns="revenue_usd_horizon")
    rows = prepare_inference_rows(
        snapshot, WINDOW, {"as_of_date": "latest", "lookback_days": 28}, COLUMNS
    )
    scores = score_rows(champion, rows, COLUMNS)
    assert "calibrated_probability" not in scores
    np.testing.assert_allclose(
        scores["calibrated_prediction"], model.predict(encode_features(preprocessor, rows))
    )
    partitions, _ = as_of_partitions(scores, rows, COLUMNS)
    assert list(partitions) == ["2021-02-01"]
    assert {"raw_prediction", "calibrated_prediction"} <= set(partitions["2021-02-01"].columns)

    test_scores = pd.DataFrame(
        {
            "calibrated_prediction": model.predict(
                encode_features(preprocessor, users(1000, "2021-01-11", seed=2))
            )
        }
    )
    report = compute_drift_report(train, rows, test_scores, scores, COLUMNS, DRIFT)
    score = report.loc[report["kind"] == "score"].iloc[0]
    assert score["feature"] == "calibrated_prediction" and score["status"] == "ok"
    # The same users spending more in their lookback: the predicted revenue drifts.
    richer = rows.assign(revenue_usd_lookback=rows["revenue_usd_lookback"] * 4 + 50.0)
    richer_scores = score_rows(champion, richer, COLUMNS)
    report = compute_drift_report(train, richer, test_scores, richer_scores, COLUMNS, DRIFT)
    assert report.set_index("feature").loc["calibrated_prediction", "status"] == "alert"

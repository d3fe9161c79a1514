"""Predicted revenue by configuration (conf/revenue): the regression problem type end to end."""

import mlflow
import pandas as pd
import pytest

from tests.conftest import TINY_PARAMS
from tests.kedro_cli import BLUEPRINT, copy_project, latest_version, run_kedro

# The tiny run's quality gate is opened as TINY_PARAMS opens binary's: a small dataset cannot
# promise the real thresholds. The two-part model's SHAP sample is kept small (model-agnostic).
REVENUE_TINY_PARAMS = ",".join(
    [
        TINY_PARAMS,
        "model_registry.quality_gate.min_normalized_gini=-1.0",
        "model_registry.quality_gate.max_abs_total_relative_error=100.0",
        "model_registry.quality_gate.min_normalized_gini_uplift_over_baseline=-1.0",
        "model_explanation.max_rows_model_agnostic=50",
    ]
)


def _config(env: str, key: str) -> dict:
    from kedro.config import OmegaConfigLoader

    from ga4_mlops.settings import CONFIG_LOADER_ARGS

    return dict(OmegaConfigLoader(str(BLUEPRINT / "conf"), env=env, **CONFIG_LOADER_ARGS)[key])


def test_the_revenue_environment_changes_the_window_the_target_and_where_results_go():
    local, revenue = _config("local", "globals"), _config("revenue", "globals")
    assert revenue["feature_query"]["horizon_days"] == 28
    changed = {"horizon_days", "start_date", "end_date", "snapshot_dates"}
    assert {k: v for k, v in revenue["feature_query"].items() if k not in changed} == {
        k: v for k, v in local["feature_query"].items() if k not in changed
    }
    assert (revenue["data_root"], revenue["registered_model"]["name"]) == (
        "data/revenue",
        "ga4_revenue",
    )
    unchanged = [k for k in local if k not in ("feature_query", "data_root", "registered_model")]
    assert [k for k in unchanged if revenue[k] != local[k]] == ["snapshots"]
    columns = _config("revenue", "parameters")["model_input"]["columns"]
    assert (columns["problem_type"], columns["target"]) == ("regression", "revenue_usd_horizon")
    assert (
        "revenue_usd_horizon"
        not in _config("local", "parameters")["model_input"]["columns"]["target"]
    )


@pytest.fixture(scope="module")
def revenue_project(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("revenue") / "ga4-mlops")
    run_kedro(project, "run", "--env=revenue", "--params", REVENUE_TINY_PARAMS)
    return project


def test_revenue_trains_evaluates_and_registers_a_regression_model(revenue_project):
    data = revenue_project / "data" / "revenue"
    table = pd.read_parquet(data / "05_model_input" / "model_input_table.parquet")
    assert table["revenue_usd_horizon"].dtype == "float64"
    labelled = table["revenue_usd_horizon"].dropna()
    assert 0.005 < (labelled > 0).mean() < 0.2  # zero-inflated
    metrics = pd.read_csv(latest_version(data / "08_reporting" / "evaluation_metrics.csv"))
    metrics = metrics.set_index("model")
    assert {"rmse", "mae", "normalized_gini", "total_relative_error"} <= set(metrics.columns)
    # the model ranks spenders better than last month's revenue does
    assert (
        metrics.loc["model_calibrated", "normalized_gini"]
        > metrics.loc["baseline", "normalized_gini"]
    )
    oracle = pd.read_csv(latest_version(data / "08_reporting" / "oracle_benchmark.csv"))
    gini = oracle.set_index("model")["normalized_gini"]
    assert gini["oracle"] >= gini.max() - 0.05
    mlflow.set_tracking_uri(f"sqlite:///{revenue_project / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias("ga4_revenue", "champion")
    assert champion.version in (1, "1")
    assert not client.search_model_versions("name='ga4_propensity'")
    served = mlflow.pyfunc.load_model("models:/ga4_revenue@champion")
    rows = pd.read_parquet(data / "05_model_input" / "scoring_set.parquet").head(20)
    predicted = served.predict(rows)
    assert list(predicted.columns) == ["raw_prediction", "calibrated_prediction"]
    assert (predicted["calibrated_prediction"] >= 0).all()


def test_revenue_scores_and_monitors_predicted_amounts(revenue_project):
    data = revenue_project / "data" / "revenue"
    scores = pd.read_parquet(latest_version(data / "07_model_output" / "batch_scores.parquet"))
    assert {"raw_prediction", "calibrated_prediction"} <= set(scores.columns)
    assert (scores["calibrated_prediction"] >= 0).all()
    assert scores["calibrated_prediction"].max() > 1.0  # amounts, not probabilities
    drift = pd.read_csv(latest_version(data / "08_reporting" / "drift_report.csv"))
    assert "calibrated_prediction" in set(drift["feature"])


def test_realized_revenue_of_the_test_date_equals_the_test_metrics(revenue_project):
    """Scoring the test split's as-of date again and measuring it once its 28 days are in the
    export gives back the test figures: the monitoring's realized revenue (user_activity_days.sql)
    is the training target (user_features.sql), and the served model is the evaluated one."""
    run_kedro(
        revenue_project,
        "run",
        "--env=revenue",
        "--pipelines=weekly",
        "--params",
        "as_of_date=2021-01-03",
    )
    run_kedro(revenue_project, "run", "--env=revenue", "--pipelines=weekly")
    reporting = revenue_project / "data" / "revenue" / "08_reporting"
    realized = pd.read_csv(latest_version(reporting / "realized_performance.csv"))
    row = realized.set_index("as_of_date").loc["2021-01-03"]
    test = pd.read_csv(latest_version(reporting / "evaluation_metrics.csv")).set_index("model")
    for metric in ("normalized_gini", "rmse", "total_relative_error"):
        assert row[metric] == pytest.approx(test.loc["model_calibrated", metric], rel=1e-9)
    assert row["n_buyers"] > 0

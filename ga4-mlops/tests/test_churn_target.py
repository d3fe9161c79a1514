"""Churn by configuration: GA4's definition in the feature query, and its exact oracle."""

import numpy as np
import pandas as pd
import yaml

from ga4_mlops.pipelines.data_generation.nodes import oracle_probabilities
from ga4_mlops.pipelines.data_generation.sessions import build_simulation, day_events
from tests.datasets.ga4_events import event, run_feature_query
from tests.kedro_cli import BLUEPRINT


def test_churn_rows_are_users_active_in_the_last_7_days_labelled_by_no_event_after(tmp_path):
    events = [
        event("stays", "2021-01-05", "page_view", session=1),
        event("stays", "2021-01-12", "page_view", session=2),  # active in the horizon
        event("leaves", "2021-01-08", "page_view", session=3),
        event("leaves", "2021-01-20", "page_view", session=4),  # after the horizon
        event("quiet", "2021-01-02", "purchase", session=5, revenue=10.0),  # not in last 7 days
        event("late", "2021-01-16", "page_view", session=6),  # the horizon's last day
        event("late", "2021-01-25", "page_view", session=7),
    ]
    churn = run_feature_query(
        events, tmp_path, target_event="churn", lookback_days=14, snapshot_dates=["2021-01-10"]
    )
    labels = dict(zip(churn["user_pseudo_id"], churn["label"], strict=True))
    assert labels == {"stays": 0, "leaves": 1}
    purchase = run_feature_query(
        events, tmp_path / "p", lookback_days=14, snapshot_dates=["2021-01-10"]
    )
    assert set(purchase["user_pseudo_id"]) == {"stays", "leaves", "quiet"}  # any lookback event


def test_the_churn_oracle_matches_the_simulated_frequency():
    params = yaml.safe_load((BLUEPRINT / "conf/base/parameters_data_generation.yml").read_text())
    params = {**params["data_generation"], "seed": 7, "n_users": 20000, "n_days": 28}
    simulation, users = build_simulation(params)
    days = []
    for day in range(params["n_days"]):
        table = day_events(simulation, day)
        days.append(
            pd.DataFrame(
                {
                    "user": table.column("user_pseudo_id").to_numpy(zero_copy_only=False),
                    "date": pd.Timestamp("2020-11-01") + pd.Timedelta(days=day),
                }
            ).drop_duplicates()
        )
    active = pd.concat(days, ignore_index=True)
    snapshot = pd.Timestamp("2020-11-15")
    last_7 = active[
        (active["date"] >= snapshot - pd.Timedelta(7, "D")) & (active["date"] < snapshot)
    ]
    keys = pd.DataFrame({"user_pseudo_id": last_7["user"].unique(), "snapshot_date": snapshot})
    probability = oracle_probabilities(users, keys, horizon_days=7, target_event="churn")
    horizon = active[
        (active["date"] >= snapshot) & (active["date"] < snapshot + pd.Timedelta(7, "D"))
    ]
    churned = ~keys["user_pseudo_id"].isin(horizon["user"]).to_numpy()
    assert len(keys) > 1000 and 0.2 < churned.mean() < 0.95
    # overall and per oracle quintile, counts agree within 4 standard deviations
    quintile = pd.qcut(probability.rank(method="first"), 5, labels=False).to_numpy()
    for group in [np.ones(len(keys), dtype=bool), *[quintile == q for q in range(5)]]:
        expected = probability[group].sum()
        sd = np.sqrt((probability[group] * (1 - probability[group])).sum())
        assert abs(churned[group].sum() - expected) < 4 * sd + 2, (churned[group].sum(), expected)


def test_the_churn_environment_changes_only_the_target_and_where_results_go():
    from kedro.config import OmegaConfigLoader

    from ga4_mlops.settings import CONFIG_LOADER_ARGS

    def globals_of(env: str) -> dict:
        return dict(
            OmegaConfigLoader(str(BLUEPRINT / "conf"), env=env, **CONFIG_LOADER_ARGS)["globals"]
        )

    local, churn = globals_of("local"), globals_of("churn")
    assert churn["feature_query"] == {**local["feature_query"], "target_event": "churn"}
    assert churn["snapshots"] == local["snapshots"]
    assert (churn["data_root"], churn["registered_model"]["name"]) == ("data/churn", "ga4_churn")
    assert {
        key: value
        for key, value in churn.items()
        if key not in ("feature_query", "data_root", "registered_model")
    } == {
        key: value
        for key, value in local.items()
        if key not in ("feature_query", "data_root", "registered_model")
    }


def test_churn_runs_end_to_end_on_the_generated_data(tmp_path):
    import mlflow

    from tests.conftest import TINY_PARAMS
    from tests.kedro_cli import copy_project, latest_version, run_kedro

    project = copy_project(tmp_path / "ga4-mlops")
    run_kedro(project, "run", "--env=churn", "--params", TINY_PARAMS)
    data = project / "data" / "churn"
    table = pd.read_parquet(data / "05_model_input" / "model_input_table.parquet")
    assert (table["sessions_last_7d"] > 0).all()  # GA4's population: active in the last 7 days
    assert 0.3 < table["label"].mean() < 0.95
    oracle = pd.read_csv(latest_version(data / "08_reporting" / "oracle_benchmark.csv"))
    roc_auc = oracle.set_index("model")["roc_auc"]
    assert roc_auc["oracle"] > 0.7 and roc_auc["oracle"] >= roc_auc.max() - 0.02
    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias("ga4_churn", "champion").version in (1, "1")
    assert not client.search_model_versions("name='ga4_propensity'")

"""The generator writes the GA4 export shape, deterministically, with an exact oracle."""

import copy
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from kedro_datasets.pandas import ParquetDataset

from ga4_mlops.pipelines.data_generation.nodes import generate_ga4_events, oracle_probabilities
from ga4_mlops.pipelines.data_generation.schema import GA4_EVENT_SCHEMA

PARAMETERS = (
    Path(__file__).resolve().parents[3] / "conf" / "base" / "parameters_data_generation.yml"
)


def small_params(**overrides) -> dict:
    params = yaml.safe_load(PARAMETERS.read_text())["data_generation"]
    return {**params, "seed": 11, "n_users": 3000, "n_days": 35, **overrides}


@pytest.fixture(scope="module")
def generated():
    partitions, truth = generate_ga4_events(small_params())
    events = {name: load() for name, load in partitions.items()}
    return events, truth


def test_one_file_per_day_in_the_exact_export_schema(generated, tmp_path):
    events, _ = generated
    assert list(events) == [
        f"events_{day:%Y%m%d}" for day in pd.date_range("2020-11-01", periods=35)
    ]
    path = tmp_path / "events_20201101.parquet"
    ParquetDataset(filepath=str(path)).save(events["events_20201101"])
    written = pq.read_schema(path)
    assert written.remove_metadata().equals(GA4_EVENT_SCHEMA), written


def test_events_carry_their_day_sessions_and_funnel_order(generated):
    events, _ = generated
    day = events["events_20201115"]
    assert set(day["event_date"]) == {"20201115"}
    utc_days = pd.to_datetime(day["event_timestamp"].astype("int64"), unit="us").dt.strftime(
        "%Y%m%d"
    )
    assert (utc_days == day["event_date"]).all()
    assert {"page_view", "session_start", "view_item", "add_to_cart", "purchase"} <= set(
        day["event_name"]
    )
    session_ids = day["event_params"].map(
        lambda params: next(p["value"]["int_value"] for p in params if p["key"] == "ga_session_id")
    )
    frame = pd.DataFrame(
        {
            "user": day["user_pseudo_id"],
            "session": session_ids,
            "name": day["event_name"],
            "ts": day["event_timestamp"],
        }
    )
    # each funnel step first happens after the first occurrence of the step before it
    funnel = [
        "view_item",
        "add_to_cart",
        "begin_checkout",
        "add_shipping_info",
        "add_payment_info",
        "purchase",
    ]
    first_time = frame.pivot_table(
        index=["user", "session"], columns="name", values="ts", aggfunc="min"
    )
    assert first_time["purchase"].notna().any()
    for earlier, later in itertools.pairwise(funnel):
        reached = first_time[later].notna()
        assert first_time.loc[reached, earlier].notna().all(), f"{later} without {earlier}"
        assert (first_time.loc[reached, earlier] < first_time.loc[reached, later]).all()
    assert day["user_pseudo_id"].map(type).eq(str).all()


def test_same_seed_same_data_other_seed_other_data():
    first, truth = generate_ga4_events(small_params(n_users=500, n_days=5))
    again, truth_again = generate_ga4_events(small_params(n_users=500, n_days=5))
    other, _ = generate_ga4_events(small_params(n_users=500, n_days=5, seed=12))
    pd.testing.assert_frame_equal(truth, truth_again)
    for name in first:
        pd.testing.assert_frame_equal(first[name](), again[name]())
    assert not first["events_20201103"]().equals(other["events_20201103"]())


@pytest.mark.parametrize("target_event", ["purchase", "add_to_cart"])
def test_oracle_matches_the_observed_frequency(generated, target_event):
    events, truth = generated
    snapshot, horizon = pd.Timestamp("2020-11-22"), 7
    window = [f"events_{day:%Y%m%d}" for day in pd.date_range(snapshot, periods=horizon)]
    buyers = set(
        pd.concat(
            [
                events[name].loc[events[name]["event_name"] == target_event, "user_pseudo_id"]
                for name in window
            ]
        )
    )
    keys = pd.DataFrame({"user_pseudo_id": truth["user_pseudo_id"], "snapshot_date": snapshot})
    probability = oracle_probabilities(truth, keys, horizon_days=horizon, target_event=target_event)
    observed = keys["user_pseudo_id"].isin(buyers).to_numpy()
    expected, variance = probability.sum(), (probability * (1 - probability)).sum()
    assert abs(observed.sum() - expected) < 4 * np.sqrt(variance) + 1, (observed.sum(), expected)
    # and it ranks: buyers had a higher true probability than non-buyers
    assert probability[observed].mean() > 3 * probability[~observed].mean()


def test_oracle_and_generator_reject_bad_input(generated):
    _, truth = generated
    keys = pd.DataFrame(
        {"user_pseudo_id": truth["user_pseudo_id"].head(3), "snapshot_date": "2020-11-22"}
    )
    with pytest.raises(ValueError, match="target_event must be one of"):
        oracle_probabilities(truth, keys, horizon_days=7, target_event="refund")
    with pytest.raises(ValueError, match="missing from ga4_user_truth"):
        oracle_probabilities(
            truth, keys.assign(user_pseudo_id="nobody"), horizon_days=7, target_event="purchase"
        )
    with pytest.raises(ValueError, match="n_days"):
        generate_ga4_events(small_params(n_days=0))
    broken = copy.deepcopy(small_params())
    broken["scale"] = -1
    with pytest.raises(ValueError, match="scale"):
        generate_ga4_events(broken)

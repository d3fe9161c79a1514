"""Snapshot dates from one anchor date: derivation, gaps, one run-time value, Vertex AI."""

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader

from ga4_mlops.config_resolvers import CUSTOM_RESOLVERS
from ga4_mlops.pipelines.feature_engineering.splits import check_time_order
from ga4_mlops.snapshot_dates import anchored_feature_query, snapshot_splits
from tests.kedro_cli import BLUEPRINT, compile_vertex_spec

WEEKLY = {
    "anchor_date": "2021-01-17",
    "cadence_days": 7,
    "counts": {"train": 5, "validation": 1, "calibration": 1, "test": 1},
    "dates": None,
}


def load_config(runtime_params: dict | None = None) -> OmegaConfigLoader:
    return OmegaConfigLoader(
        conf_source=str(BLUEPRINT / "conf"),
        base_env="base",
        default_run_env="local",
        env="local",
        runtime_params=runtime_params or {},
        custom_resolvers=CUSTOM_RESOLVERS,
        merge_strategy={"parameters": "soft"},
    )


def test_the_default_anchor_gives_weekly_dates_and_the_window_they_read():
    splits = snapshot_splits(WEEKLY, horizon_days=7)
    assert splits == {
        "train": ["2020-11-29", "2020-12-06", "2020-12-13", "2020-12-20", "2020-12-27"],
        "validation": ["2021-01-03"],
        "calibration": ["2021-01-10"],
        "test": ["2021-01-17"],
        "scoring": ["2021-01-24"],
    }
    query = anchored_feature_query({"lookback_days": 28, "horizon_days": 7}, WEEKLY)
    assert (query["start_date"], query["end_date"]) == ("2020-11-01", "2021-01-23")
    assert query["snapshot_dates"] == [day for days in splits.values() for day in days]


def test_a_longer_horizon_leaves_gap_weeks_that_pass_the_split_check():
    splits = snapshot_splits(WEEKLY, horizon_days=14)
    assert splits["test"] == ["2021-01-17"]
    assert splits["calibration"] == ["2021-01-03"]  # 2021-01-10 skipped: a gap week
    assert splits["train"][-1] == "2020-12-06"
    assert splits["scoring"] == ["2021-01-31"]
    dates = pd.Series(pd.to_datetime([day for days in splits.values() for day in days]))
    assigned = pd.Series([name for name, days in splits.items() for _ in days])
    check_time_order(dates, assigned, horizon_days=14, date_column="snapshot_date")
    contiguous = snapshot_splits(WEEKLY, horizon_days=7)
    dates = pd.Series(pd.to_datetime([day for days in contiguous.values() for day in days]))
    assigned = pd.Series([name for name, days in contiguous.items() for _ in days])
    with pytest.raises(ValueError, match=r"label window \[2020-12-27, 2021-01-10\)"):
        check_time_order(dates, assigned, horizon_days=14, date_column="snapshot_date")


def test_one_run_time_value_moves_the_query_and_the_splits_together():
    default, moved = load_config(), load_config({"anchor_date": "2021-02-14"})
    for config, test_date, scoring_date in (
        (default, "2021-01-17", "2021-01-24"),
        (moved, "2021-02-14", "2021-02-21"),
    ):
        splits = config["parameters"]["model_input"]["splits"]["dates"]
        query = config["catalog"]["ga4_events@user_features"]["query_parameters"]
        assert (splits["test"], splits["scoring"]) == ([test_date], [scoring_date])
        assert query["snapshot_dates"] == [day for days in splits.values() for day in days]
        assert query["end_date"] < scoring_date
        assert config["parameters"]["feature_extraction"]["feature_query"] == query
    assert moved["catalog"]["ga4_events@user_features"]["query_parameters"]["start_date"] == (
        "2020-11-29"
    )


@pytest.mark.parametrize(
    ("snapshots", "anchor", "message"),
    [
        (
            {**WEEKLY, "dates": {"train": ["2021-01-03"]}},
            "2021-02-14",
            r"globals snapshots lists explicit dates, so anchor_date=2021-02-14 cannot move them",
        ),
        (WEEKLY, "14/02/2021", r"anchor_date must be a 'YYYY-MM-DD' date, got '14/02/2021'"),
        (
            {**WEEKLY, "counts": {"train": 5, "test": 1}},
            None,
            r"needs cadence_days >= 1 and counts >= 1 for \['train', 'validation'",
        ),
    ],
)
def test_bad_snapshot_settings_are_named(snapshots, anchor, message):
    with pytest.raises(ValueError, match=message):
        snapshot_splits(snapshots, horizon_days=7, anchor_date=anchor)


def test_explicit_dates_still_work():
    explicit = {**WEEKLY, "dates": {"train": ["2021-01-03"], "scoring": ["2021-02-01"]}}
    assert snapshot_splits(explicit, horizon_days=7) == explicit["dates"]


def test_the_compiled_vertex_pipeline_takes_the_anchor_as_a_run_time_parameter(
    tmp_path, monkeypatch
):
    spec = compile_vertex_spec(
        tmp_path, monkeypatch, "--pipeline", "end_to_end", "--params", "anchor_date:str"
    )
    assert "anchor_date" in spec["root"]["inputDefinitions"]["parameters"]
    executors = spec["deploymentSpec"]["executors"]
    query_step = " ".join(executors["exec-extract-features"]["container"]["args"])  # its step
    assert "--params anchor_date=" in query_step

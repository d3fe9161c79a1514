"""build_model_input_table: the checks on the query's result, each with the message it gives."""

import logging
from pathlib import Path
from typing import Any

import db_dtypes  # noqa: F401  (registers the "dbdate" dtype pandas-gbq returns)
import pandas as pd
import pytest
import yaml

from ga4_mlops.pipelines.feature_extraction.nodes import build_model_input_table
from tests.datasets.ga4_events import QUERY_PARAMETERS, day_range, event, run_feature_query

MODEL_INPUT = Path(__file__).resolve().parents[3] / "conf" / "base" / "parameters_model_input.yml"
COLUMNS = yaml.safe_load(MODEL_INPUT.read_text())["model_input"]["columns"]
SPLITS = {"train": ["2021-01-08"], "test": ["2021-01-15"], "scoring": ["2021-01-22"]}
FEATURE_QUERY = {
    **QUERY_PARAMETERS,
    "start_date": "2021-01-01",
    "end_date": "2021-01-31",
    "snapshot_dates": ["2021-01-08", "2021-01-15", "2021-01-22"],
}


def daily_events() -> list[dict[str, Any]]:
    """Ten users active 01-01 .. 01-21; u0 buys on 01-09, u1 on 01-16 and 01-20."""
    events = [
        event(f"u{i}", day, "page_view", session=100 * i + number)
        for number, day in enumerate(day_range("2021-01-01", "2021-01-21"))
        for i in range(10)
        if (number + i) % 3 == 0
    ]
    events += [
        event("u0", "2021-01-09", "purchase", session=1, revenue=10.0),
        event("u1", "2021-01-16", "purchase", session=2, revenue=20.0),
        event("u1", "2021-01-20", "purchase", session=3, revenue=20.0),
    ]
    return events


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> pd.DataFrame:
    return run_feature_query(daily_events(), tmp_path_factory.mktemp("events"), **FEATURE_QUERY)


def build(raw: pd.DataFrame, splits=None, allow_partial_lookback=False, **query) -> pd.DataFrame:
    params = {
        "feature_query": {**FEATURE_QUERY, **query},
        "allow_partial_lookback": allow_partial_lookback,
    }
    return build_model_input_table(raw, params, COLUMNS, splits or SPLITS)


def test_the_table_keeps_ids_features_and_label_typed_alike(raw, caplog):
    with caplog.at_level(logging.INFO):
        table = build(raw)
    assert list(table.columns) == [
        *COLUMNS["id"],
        *COLUMNS["numeric"],
        *COLUMNS["categorical"],
        COLUMNS["target"],
        *COLUMNS["other_targets"],
    ]
    assert "data_last_date" not in table.columns
    assert table["user_pseudo_id"].map(type).eq(str).all()
    assert str(table["snapshot_date"].dtype) == "datetime64[ns]"
    assert (table[COLUMNS["numeric"]].dtypes == "float64").all()
    assert str(table["label"].dtype) == "Int64"
    scoring = table["snapshot_date"] == pd.Timestamp("2021-01-22")
    assert table.loc[scoring, "label"].isna().all()
    assert table.loc[~scoring, "label"].notna().all()
    # the horizon's revenue: float, NaN exactly where the label is unknown
    revenue = table.set_index(["user_pseudo_id", table["snapshot_date"].dt.strftime("%m-%d")])[
        "revenue_usd_horizon"
    ]
    assert str(revenue.dtype) == "float64"
    assert revenue.isna().tolist() == table["label"].isna().tolist()
    assert (revenue[("u0", "01-08")], revenue[("u1", "01-15")], revenue[("u1", "01-08")]) == (
        10.0,
        40.0,  # 01-16 and 01-20: both inside [01-15, 01-22)
        0.0,
    )
    assert table["snapshot_date"].is_monotonic_increasing
    assert "snapshot 2021-01-08: 10 users, positive rate 0.1000" in caplog.text
    assert "snapshot 2021-01-22: 10 users, positive rate n/a (unlabelled)" in caplog.text


def test_bigquery_dtypes_give_the_same_table(raw):
    """pandas-gbq returns dbdate, Int64 and string dtypes where DuckDB gives numpy ones."""
    like_bigquery = raw.copy()
    for column in ("snapshot_date", "data_first_date", "data_last_date"):
        like_bigquery[column] = pd.Series(raw[column].dt.date, dtype="dbdate")
    for column in COLUMNS["numeric"][:5]:
        like_bigquery[column] = raw[column].astype("Int64")
    for column in [*COLUMNS["categorical"], "user_pseudo_id"]:
        like_bigquery[column] = raw[column].astype("string")
    like_bigquery["label"] = raw["label"].astype("Int64")
    pd.testing.assert_frame_equal(build(like_bigquery), build(raw))


def test_an_empty_result_is_refused(raw):
    with pytest.raises(
        ValueError, match=r"ga4_events@user_features is empty: no user has an event"
    ):
        build(raw.iloc[0:0])


def test_an_empty_date_window_is_refused(raw):
    with pytest.raises(ValueError, match="empty date window: start_date 2021-02-01 is after"):
        build(raw, start_date="2021-02-01")


def test_a_snapshot_outside_the_date_window_is_refused(raw):
    with pytest.raises(
        ValueError,
        match=r"snapshot 2021-03-10 is outside the date window \[2021-01-01, 2021-01-31\]",
    ):
        build(raw, snapshot_dates=[*FEATURE_QUERY["snapshot_dates"], "2021-03-10"])


def test_a_snapshot_without_events_in_its_lookback_is_named(tmp_path):
    query = {**FEATURE_QUERY, "snapshot_dates": [*FEATURE_QUERY["snapshot_dates"], "2021-01-31"]}
    raw = run_feature_query(daily_events(), tmp_path, **query)
    with pytest.raises(
        ValueError,
        match=r"snapshot 2021-01-31 has no users in ga4_events@user_features: no events in its "
        r"lookback \[2021-01-24, 2021-01-30\]; the data cover \[2021-01-01, 2021-01-21\]",
    ):
        build(raw, snapshot_dates=query["snapshot_dates"])


def test_a_snapshot_with_a_truncated_lookback_is_refused_unless_allowed(tmp_path):
    query = {**FEATURE_QUERY, "snapshot_dates": ["2021-01-05", *FEATURE_QUERY["snapshot_dates"]]}
    raw = run_feature_query(daily_events(), tmp_path, **query)
    with pytest.raises(
        ValueError,
        match=r"snapshot 2021-01-05 needs events from 2020-12-29 \(lookback_days=7\) but the "
        r"data start on 2021-01-01",
    ):
        build(raw, snapshot_dates=query["snapshot_dates"])
    table = build(raw, snapshot_dates=query["snapshot_dates"], allow_partial_lookback=True)
    assert (table["snapshot_date"] == pd.Timestamp("2021-01-05")).sum() > 0


def test_a_labelled_snapshot_whose_horizon_runs_past_the_data_is_named(raw):
    splits = {"train": ["2021-01-08"], "test": ["2021-01-22"], "scoring": ["2021-01-15"]}
    with pytest.raises(
        ValueError,
        match=r"snapshot 2021-01-22 of split 'test' is unlabelled: its horizon "
        r"\[2021-01-22, 2021-01-28\] \(horizon_days=7\) runs past the data end 2021-01-21",
    ):
        build(raw, splits=splits)


def test_a_target_event_that_never_occurs_is_refused(tmp_path):
    query = {**FEATURE_QUERY, "target_event": "add_to_cart"}
    raw = run_feature_query(daily_events(), tmp_path, **query)
    with pytest.raises(
        ValueError,
        match=r"target event 'add_to_cart' never occurs in the 7-day horizon of any labelled",
    ):
        build(raw, target_event="add_to_cart")


def test_missing_expected_columns_are_named(raw):
    with pytest.raises(
        ValueError,
        match=r"ga4_events@user_features lacks column\(s\) \['browser', 'data_last_date'\]",
    ):
        build(raw.drop(columns=["browser", "data_last_date"]))


def test_split_dates_the_query_was_not_asked_for_are_named(raw):
    splits = {**SPLITS, "validation": ["2021-01-29"]}
    with pytest.raises(
        ValueError,
        match=r"splits use snapshot date\(s\) \['2021-01-29'\] that feature_query.snapshot_dates",
    ):
        build(raw, splits=splits)


def test_labels_other_than_zero_one_or_null_are_refused(raw):
    broken = raw.copy()
    broken.loc[0, "label"] = 2
    with pytest.raises(ValueError, match=r"'label' must hold 0, 1 or NULL, found \['2\.0'\]"):
        build(broken)


def test_duplicated_user_snapshot_rows_are_refused(raw):
    with pytest.raises(ValueError, match=r"has 1 duplicated \['user_pseudo_id', 'snapshot_date'\]"):
        build(pd.concat([raw, raw.iloc[[0]]], ignore_index=True))

"""Inference nodes: the as-of date, the checks that name it, and one partition per date."""

from datetime import date

import pandas as pd
import pytest

from ga4_mlops.pipelines.inference.nodes import (
    as_of_partitions,
    data_range,
    prepare_inference_rows,
    resolve_as_of_date,
)

COLUMNS = {
    "id": ["user_pseudo_id", "snapshot_date"],
    "date": "snapshot_date",
    "target": "label",
    "numeric": ["sessions_lookback"],
    "categorical": ["country"],
}
WINDOW = pd.DataFrame(
    {
        "data_first_date": [pd.Timestamp("2020-11-01")],
        "data_last_date": [pd.Timestamp("2021-01-31")],
    }
)


def features(as_of: str, users=("u2", "u1")) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_pseudo_id": list(users),
            "snapshot_date": pd.Timestamp(as_of),
            "sessions_lookback": [3, 1],
            "country": ["Canada", None],
            "label": [pd.NA, pd.NA],
            "data_first_date": pd.Timestamp("2020-11-01"),
            "data_last_date": pd.Timestamp("2021-01-31"),
        }
    )


def params(as_of_date: str = "latest", **overrides) -> dict:
    return {"as_of_date": as_of_date, "lookback_days": 28, **overrides}


def test_latest_is_the_day_after_the_newest_event():
    assert resolve_as_of_date("latest", date(2021, 1, 31)) == date(2021, 2, 1)
    assert resolve_as_of_date("2021-01-25", date(2021, 1, 31)) == date(2021, 1, 25)
    with pytest.raises(ValueError, match=r"inference.as_of_date must be 'latest' or a"):
        resolve_as_of_date("next monday", date(2021, 1, 31))


def test_rows_of_the_as_of_date_are_typed_sorted_and_unlabelled():
    rows = prepare_inference_rows(features("2021-02-01"), WINDOW, params(), COLUMNS)
    assert rows["user_pseudo_id"].tolist() == ["u1", "u2"]
    assert "label" not in rows and "data_last_date" not in rows
    assert rows["sessions_lookback"].dtype == "float64"
    assert rows["country"].tolist() == [None, "Canada"]


def test_an_as_of_date_without_users_names_the_date_and_the_data_range():
    with pytest.raises(ValueError) as error:
        prepare_inference_rows(
            features("2021-01-25").iloc[0:0], WINDOW, params("2021-01-25"), COLUMNS
        )
    message = str(error.value)
    assert "as-of date 2021-01-25 (lookback [2020-12-28, 2021-01-24])" in message
    assert "the data cover [2020-11-01, 2021-01-31]" in message


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (
            "2021-02-09",
            r"as-of date 2021-02-09 .*data cover \[2020-11-01, 2021-01-31\].*after "
            r"2021-02-01",
        ),
        (
            "2020-11-15",
            r"as-of date 2020-11-15 .*data cover \[2020-11-01, 2021-01-31\].*starts "
            r"before the data",
        ),
    ],
)
def test_dates_the_data_cannot_describe_are_refused(as_of, expected):
    with pytest.raises(ValueError, match=expected):
        prepare_inference_rows(features(as_of), WINDOW, params(as_of), COLUMNS)


def test_a_partial_lookback_can_be_allowed_on_purpose():
    rows = prepare_inference_rows(
        features("2020-11-15"), WINDOW, params("2020-11-15", allow_partial_lookback=True), COLUMNS
    )
    assert len(rows) == 2


def test_no_events_at_all_says_where_to_put_the_export():
    empty = pd.DataFrame({"data_first_date": [pd.NaT], "data_last_date": [pd.NaT]})
    with pytest.raises(ValueError, match="found no events at all"):
        data_range(empty)


def test_duplicated_users_are_refused():
    with pytest.raises(ValueError, match="1 duplicated"):
        prepare_inference_rows(
            features("2021-02-01", users=("u1", "u1")), WINDOW, params(), COLUMNS
        )


def test_scores_become_one_partition_named_by_their_as_of_date():
    rows = prepare_inference_rows(features("2021-02-01"), WINDOW, params(), COLUMNS)
    scores = rows[COLUMNS["id"]].assign(calibrated_probability=[0.1, 0.2])
    score_partitions, row_partitions = as_of_partitions(scores, rows, COLUMNS)
    assert list(score_partitions) == ["2021-02-01"] and list(row_partitions) == ["2021-02-01"]
    pd.testing.assert_frame_equal(score_partitions["2021-02-01"], scores)
    two_dates = pd.concat([scores, scores.assign(snapshot_date=pd.Timestamp("2021-02-08"))])
    with pytest.raises(ValueError, match="one as-of date"):
        as_of_partitions(two_dates, rows, COLUMNS)

"""The OTTO JSON-lines reader/writer: official layout both ways, bad lines named precisely."""

import json
import logging

import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError

from recommender_gnn.datasets.otto_jsonl_dataset import OttoJsonlDataset

EVENTS = pd.DataFrame(
    {
        "session": [7, 7, 7, 9],
        "aid": [100, 200, 100, 300],
        "ts": [1_659_304_800, 1_659_304_830, 1_659_304_831, 1_659_305_000],
        "type": [0, 0, 1, 2],
    }
).astype({"session": "int32", "aid": "int32", "ts": "int32", "type": "int8"})


def write_lines(path, *lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_sessions_round_trip_in_the_official_layout(tmp_path):
    path = tmp_path / "train.jsonl"
    OttoJsonlDataset(filepath=str(path)).save(EVENTS)
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {
        "session": 7,
        "events": [
            {"aid": 100, "ts": 1_659_304_800_000, "type": "clicks"},
            {"aid": 200, "ts": 1_659_304_830_000, "type": "clicks"},
            {"aid": 100, "ts": 1_659_304_831_000, "type": "carts"},
        ],
    }
    pd.testing.assert_frame_equal(OttoJsonlDataset(filepath=str(path)).load(), EVENTS)


def test_saving_twice_appends_and_a_new_dataset_starts_the_file_anew(tmp_path):
    path = tmp_path / "train.jsonl"
    dataset = OttoJsonlDataset(filepath=str(path))
    dataset.save(EVENTS[EVENTS["session"] == 7])
    dataset.save(EVENTS[EVENTS["session"] == 9])
    assert len(path.read_text().splitlines()) == 2
    OttoJsonlDataset(filepath=str(path)).save(EVENTS[EVENTS["session"] == 9])
    assert len(path.read_text().splitlines()) == 1


def test_small_chunks_give_the_same_table(tmp_path):
    path = tmp_path / "train.jsonl"
    OttoJsonlDataset(filepath=str(path)).save(EVENTS)
    chunked = OttoJsonlDataset(filepath=str(path), chunk_lines=1).load()
    pd.testing.assert_frame_equal(chunked, EVENTS)


def test_labels_round_trip(tmp_path):
    path = write_lines(
        tmp_path / "test_labels.jsonl",
        '{"session": 3, "labels": {"clicks": 5, "carts": [6, 7], "orders": [6]}}',
        '{"session": 4, "labels": {"carts": [8]}}',
    )
    labels = OttoJsonlDataset(filepath=str(path), kind="labels").load()
    assert labels.to_dict("records") == [
        {"session": 3, "event_type": "clicks", "aid": 5},
        {"session": 3, "event_type": "carts", "aid": 6},
        {"session": 3, "event_type": "carts", "aid": 7},
        {"session": 3, "event_type": "orders", "aid": 6},
        {"session": 4, "event_type": "carts", "aid": 8},
    ]
    copy = tmp_path / "copy.jsonl"
    OttoJsonlDataset(filepath=str(copy), kind="labels").save(labels)
    written = [json.loads(line) for line in copy.read_text().splitlines()]
    assert written == [json.loads(line) for line in path.read_text().splitlines()]


def test_missing_optional_labels_load_as_an_empty_table(tmp_path):
    labels = OttoJsonlDataset(
        filepath=str(tmp_path / "absent.jsonl"), kind="labels", optional=True
    ).load()
    assert labels.empty
    assert list(labels.columns) == ["session", "event_type", "aid"]
    with pytest.raises(DatasetError, match=r"absent\.jsonl does not exist"):
        OttoJsonlDataset(filepath=str(tmp_path / "absent.jsonl")).load()


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (
            '{"session": 2, "events": [{"aid": 1, "ts": 5, "type": "clicks"}',
            r"line 2: not valid JSON",
        ),
        (
            '{"session": 2, "events": [{"aid": 1, "ts": 5, "type": "views"}]}',
            r"line 2, events\[0\], field 'type': expected one of \['clicks', 'carts', 'orders'\], "
            r"got 'views'",
        ),
        (
            '{"session": 2, "events": [{"aid": "x1", "ts": 5, "type": "clicks"}]}',
            r"line 2, events\[0\], field 'aid': expected a non-negative integer, got 'x1'",
        ),
        ('{"session": "s2", "events": []}', r"line 2, field 'session': expected an integer"),
        ('{"session": 2}', r"line 2: field 'events' is missing"),
    ],
)
def test_bad_lines_are_rejected_naming_file_line_and_field(tmp_path, bad_line, message):
    path = write_lines(
        tmp_path / "train.jsonl",
        '{"session": 1, "events": [{"aid": 1, "ts": 1000, "type": "clicks"}]}',
        bad_line,
    )
    with pytest.raises(DatasetError, match=rf"train\.jsonl, {message}"):
        OttoJsonlDataset(filepath=str(path)).load()


def test_empty_sessions_are_skipped_and_counted(tmp_path, caplog):
    path = write_lines(
        tmp_path / "train.jsonl",
        '{"session": 1, "events": []}',
        '{"session": 2, "events": [{"aid": 1, "ts": 1000, "type": "clicks"}]}',
    )
    with caplog.at_level(logging.WARNING):
        events = OttoJsonlDataset(filepath=str(path)).load()
    assert events["session"].tolist() == [2]
    assert "1 of 2 sessions have no events" in caplog.text


def test_remote_paths_go_through_fsspec_like_gs():
    # conf/gcp reads gs://...; fsspec's in-memory filesystem stands in for the bucket.
    dataset = OttoJsonlDataset(filepath="memory://bucket/data/01_raw/train.jsonl")
    dataset.save(EVENTS)
    pd.testing.assert_frame_equal(
        OttoJsonlDataset(filepath="memory://bucket/data/01_raw/train.jsonl").load(), EVENTS
    )


def test_pyarrow_and_line_by_line_engines_read_the_same_table(tmp_path, caplog):
    path = tmp_path / "train.jsonl"
    write_lines(
        path,
        '{"session": 4, "events": [{"aid": 9, "ts": 2000, "type": "orders"}, '
        '{"aid": 9, "ts": 1000, "type": "clicks"}]}',
        '{"session": 5, "events": []}',
        '{"session": 6, "events": [{"aid": 1, "ts": 3999, "type": "carts", "extra": 1}]}',
    )
    with caplog.at_level(logging.INFO):
        fast = OttoJsonlDataset(filepath=str(path)).load()
    assert "reading line by line" not in caplog.text  # the pyarrow path took it
    assert "1 of 3 sessions have no events" in caplog.text
    slow = OttoJsonlDataset(filepath=str(path), engine="python").load()
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["ts"].tolist() == [2, 1, 3]  # file order kept, ms -> s


@pytest.mark.parametrize("engine", ["pyarrow", "python"])
def test_ids_are_int32_when_they_fit_and_int64_when_one_does_not(tmp_path, engine):
    big = EVENTS.astype({"session": "int64", "aid": "int64", "ts": "int64"})
    big.loc[3, "session"] = 2**40  # the last session's id needs 64 bits
    path = tmp_path / "train.jsonl"
    OttoJsonlDataset(filepath=str(path)).save(big)
    loaded = OttoJsonlDataset(filepath=str(path), engine=engine, chunk_lines=1).load()
    assert loaded["session"].dtype == np.int64 and loaded["session"].iloc[3] == 2**40
    assert loaded["aid"].dtype == np.int32 and loaded["ts"].dtype == np.int32
    pd.testing.assert_frame_equal(loaded, big.astype({"aid": "int32", "ts": "int32"}))

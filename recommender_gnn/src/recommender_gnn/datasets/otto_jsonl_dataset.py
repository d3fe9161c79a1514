"""OTTO sessions (``train.jsonl``/``test.jsonl``) and labels (``test_labels.jsonl``) as flat
event tables, read line by line in chunks and written by appending chunks.

Why this exists: kedro-datasets' ``pandas.JSONDataset`` hands the whole file to
``pandas.read_json``: the real ``train.jsonl`` is 11 GB of nested JSON (12.9 M sessions,
217 M events), which pandas would hold as Python objects before flattening, and a malformed
line fails without a line number. This dataset parses the sessions with pyarrow's streaming JSON
reader into compact columns (the flat result of the full file is about 3 GB); when a block does
not parse or breaks a rule, it reads the file again line by line (``chunk_lines`` at a time)
to name the file, the line and the field of the bad record. It counts what it tolerates
(empty sessions). ``engine: python`` always takes the line-by-line path.
Saving appends: a generator node (``yield``) writes the file chunk by chunk, so the
generator can reach OTTO's size without holding it in memory.

Layouts (the official ones):
- ``kind: sessions``: ``{"session": int, "events": [{"aid": int, "ts": int ms, "type":
  "clicks"|"carts"|"orders"}]}`` <-> columns ``session, aid, ts`` (**seconds**, as OTTO's
  parquet variant; int32 when every value of the file fits, else int64) and ``type`` (int8:
  0 clicks, 1 carts, 2 orders).
- ``kind: labels``: ``{"session": int, "labels": {"clicks": aid, "carts": [aid..],
  "orders": [aid..]}}`` <-> columns ``session, event_type`` (str), ``aid``.

``optional: true`` loads an empty table when the file does not exist (``test_labels.jsonl``
is only there when the user has labels).
"""

from __future__ import annotations

import json
import logging
from pathlib import PurePosixPath
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from kedro.io.core import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)

EVENT_TYPES = ("clicks", "carts", "orders")
TYPE_CODES = {name: code for code, name in enumerate(EVENT_TYPES)}
SESSION_COLUMNS = {"session": "int64", "aid": "int64", "ts": "int64", "type": "int8"}
LABEL_COLUMNS = {"session": "int64", "event_type": "object", "aid": "int64"}
SESSION_SCHEMA = pa.schema(
    [
        ("session", pa.int64()),
        (
            "events",
            pa.list_(pa.struct([("aid", pa.int64()), ("ts", pa.int64()), ("type", pa.string())])),
        ),
    ]
)


class OttoJsonlDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """Flat OTTO events or labels from (and to) the official JSON-lines layout."""

    def __init__(
        self,
        *,
        filepath: str,
        kind: str = "sessions",
        chunk_lines: int = 200_000,
        optional: bool = False,
        engine: str = "pyarrow",
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if engine not in ("pyarrow", "python"):
            raise DatasetError(
                f"OttoJsonlDataset({filepath}): engine must be 'pyarrow' or 'python'"
            )
        if kind not in ("sessions", "labels"):
            raise DatasetError(f"OttoJsonlDataset({filepath}): kind must be 'sessions' or 'labels'")
        self._filepath = str(filepath)
        self._kind = kind
        self._chunk_lines = int(chunk_lines)
        self._optional = optional
        self.loads_when_missing = optional  # run_hooks.MissingInputsHook leaves it alone
        self._engine = engine
        self._fs, self._path = fsspec.core.url_to_fs(self._filepath, **(credentials or {}))
        self._appending = False
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "kind": self._kind, "optional": self._optional}

    def _exists(self) -> bool:
        return self._fs.exists(self._path)

    def _columns(self) -> dict[str, str]:
        return SESSION_COLUMNS if self._kind == "sessions" else LABEL_COLUMNS

    def load(self) -> pd.DataFrame:
        if not self._fs.exists(self._path):
            if self._optional:
                logger.info("%s does not exist: loaded as an empty table", self._filepath)
                return _empty(self._columns())
            raise DatasetError(
                f"{self._filepath} does not exist: put the OTTO file there (official JSON-lines "
                "layout) or run the data_generation pipeline"
            )
        if self._kind == "sessions" and self._engine == "pyarrow":
            events = self._load_with_pyarrow()
            if events is not None:
                return events
        parse = self._parse_session if self._kind == "sessions" else self._parse_labels
        chunks, columns, counts = [], _new_columns(self._columns()), {"empty": 0, "lines": 0}
        with self._fs.open(self._path, "rt", encoding="utf-8") as lines:
            for line_number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                counts["lines"] += 1
                parse(line, line_number, columns, counts)
                if counts["lines"] % self._chunk_lines == 0:
                    chunks.append(_to_frame(columns, self._columns()))
                    columns = _new_columns(self._columns())
        chunks.append(_to_frame(columns, self._columns()))
        if self._kind == "sessions":
            chunks = [_narrowed(chunk) for chunk in chunks]
        if counts["empty"]:
            logger.warning(
                "%s: %d of %d sessions have no events and were skipped",
                self._filepath,
                counts["empty"],
                counts["lines"],
            )
        if self._kind == "sessions":
            return _concatenated(chunks)
        return pd.concat(chunks, ignore_index=True)

    def _load_with_pyarrow(self) -> pd.DataFrame | None:
        """The flat events, or None when anything is off (the line-by-line path names it)."""
        frames, n_sessions, n_empty = [], 0, 0
        options = pa_json.ParseOptions(explicit_schema=SESSION_SCHEMA)
        try:
            with self._fs.open(self._path, "rb") as file:
                reader = pa_json.open_json(
                    file,
                    read_options=pa_json.ReadOptions(block_size=32 << 20),
                    parse_options=options,
                )
                for batch in reader:
                    events = batch.column("events")
                    if batch.column("session").null_count or events.null_count:
                        return None
                    lengths = pc.list_value_length(events).to_numpy(zero_copy_only=False)
                    flat = pc.list_flatten(events)
                    aid, ts = flat.field("aid"), flat.field("ts")
                    codes = pc.index_in(flat.field("type"), value_set=pa.array(EVENT_TYPES))
                    if flat.null_count or aid.null_count or ts.null_count or codes.null_count:
                        return None
                    if len(flat) and min(pc.min(aid).as_py(), pc.min(ts).as_py()) < 0:
                        return None
                    n_sessions += len(lengths)
                    n_empty += int((lengths == 0).sum())
                    frames.append(
                        _narrowed(
                            pd.DataFrame(
                                {
                                    "session": np.repeat(
                                        batch.column("session").to_numpy(), lengths
                                    ),
                                    "aid": aid.to_numpy(),
                                    "ts": ts.to_numpy() // 1000,
                                    "type": codes.to_numpy().astype(np.int8),
                                }
                            )
                        )
                    )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            logger.info(
                "%s: pyarrow could not parse it (%s): reading line by line", self._filepath, error
            )
            return None
        if n_empty:
            logger.warning(
                "%s: %d of %d sessions have no events and were skipped",
                self._filepath,
                n_empty,
                n_sessions,
            )
        if not frames:
            return _empty(SESSION_COLUMNS)
        return _concatenated(frames)

    def _record(self, line: str, line_number: int, key: str) -> tuple[dict, Any]:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(
                f"{self._filepath}, line {line_number}: not valid JSON ({error.msg} at column "
                f"{error.colno})"
            ) from error
        if not isinstance(record, dict):
            raise DatasetError(f"{self._filepath}, line {line_number}: expected a JSON object")
        session = record.get("session")
        if not isinstance(session, int) or isinstance(session, bool):
            raise DatasetError(
                f"{self._filepath}, line {line_number}, field 'session': expected an integer, "
                f"got {session!r}"
            )
        if key not in record:
            raise DatasetError(f"{self._filepath}, line {line_number}: field '{key}' is missing")
        return record, record[key]

    def _parse_session(self, line: str, line_number: int, columns: dict, counts: dict) -> None:
        record, events = self._record(line, line_number, "events")
        if not isinstance(events, list):
            raise DatasetError(
                f"{self._filepath}, line {line_number}, field 'events': expected a list"
            )
        if not events:
            counts["empty"] += 1
            return
        for position, event in enumerate(events):
            where = f"{self._filepath}, line {line_number}, events[{position}]"
            if not isinstance(event, dict):
                raise DatasetError(f"{where}: expected an object with aid, ts, type")
            for field in ("aid", "ts"):
                value = event.get(field)
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise DatasetError(
                        f"{where}, field '{field}': expected a non-negative integer, got {value!r}"
                    )
            code = TYPE_CODES.get(event.get("type"))
            if code is None:
                raise DatasetError(
                    f"{where}, field 'type': expected one of {list(EVENT_TYPES)}, "
                    f"got {event.get('type')!r}"
                )
            columns["session"].append(record["session"])
            columns["aid"].append(event["aid"])
            columns["ts"].append(event["ts"] // 1000)
            columns["type"].append(code)

    def _parse_labels(self, line: str, line_number: int, columns: dict, counts: dict) -> None:
        record, labels = self._record(line, line_number, "labels")
        where = f"{self._filepath}, line {line_number}, field 'labels"
        if not isinstance(labels, dict):
            raise DatasetError(f"{where}': expected an object")
        for event_type, value in labels.items():
            if event_type not in TYPE_CODES:
                raise DatasetError(
                    f"{where}.{event_type}': unknown event type, expected {list(EVENT_TYPES)}"
                )
            aids = [value] if event_type == "clicks" and not isinstance(value, list) else value
            if not isinstance(aids, list) or not all(
                isinstance(aid, int) and not isinstance(aid, bool) for aid in aids
            ):
                raise DatasetError(f"{where}.{event_type}': expected integer aid(s), got {value!r}")
            for aid in dict.fromkeys(aids):
                columns["session"].append(record["session"])
                columns["event_type"].append(event_type)
                columns["aid"].append(aid)

    def save(self, data: pd.DataFrame) -> None:
        """Append the chunk (the first save of this dataset object starts the file anew)."""
        missing = [column for column in self._columns() if column not in data.columns]
        if missing:
            raise DatasetError(f"{self._filepath}: cannot save, columns {missing} are missing")
        self._fs.mkdirs(str(PurePosixPath(self._path).parent), exist_ok=True)
        text = _sessions_jsonl(data) if self._kind == "sessions" else _labels_jsonl(data)
        with self._fs.open(self._path, "a" if self._appending else "w", encoding="utf-8") as out:
            out.write(text)
        self._appending = True


def _new_columns(columns: dict[str, str]) -> dict[str, list]:
    return {name: [] for name in columns}


def _to_frame(columns: dict[str, list], dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: np.asarray(values, dtype=dtypes[name]) for name, values in columns.items()}
    )


INT32 = np.iinfo(np.int32)


def _narrowed(events: pd.DataFrame) -> pd.DataFrame:
    """session, aid and ts as int32 where this part's values fit (OTTO's all do): 13 bytes
    per event instead of 25, which is what lets 216 M events load in a few GB."""
    narrow = {
        name: np.int32
        for name in ("session", "aid", "ts")
        if len(events) == 0 or (INT32.min <= events[name].min() and events[name].max() <= INT32.max)
    }
    return events.astype(narrow, copy=False) if narrow else events


def _concatenated(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts as one table, each column int32 only if every part's is (else int64), built
    with one copy per column."""
    columns = {}
    for name in ("session", "aid", "ts", "type"):
        dtypes = {part[name].dtype for part in parts}
        dtype = (
            np.int8
            if name == "type"
            else (np.int32 if dtypes == {np.dtype(np.int32)} else np.int64)
        )
        columns[name] = np.concatenate([part[name].to_numpy() for part in parts], dtype=dtype)
        for part in parts:
            del part[name]  # frees the part's copy of this column before the next one
    return pd.DataFrame(columns, copy=False)


def _empty(dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})


def _sessions_jsonl(events: pd.DataFrame) -> str:
    """One line per session, events in the given order (ts written in milliseconds)."""
    ordered = events.sort_values(["session", "ts"], kind="stable")
    event_json = (
        '{"aid":'
        + ordered["aid"].astype("int64").astype(str)
        + ',"ts":'
        + (ordered["ts"].astype("int64") * 1000).astype(str)
        + ',"type":"'
        + ordered["type"].map(dict(enumerate(EVENT_TYPES))).astype(str)
        + '"}'
    )
    per_session = event_json.groupby(ordered["session"].to_numpy(), sort=False).agg(",".join)
    lines = '{"session":' + per_session.index.astype(str) + ',"events":[' + per_session + "]}"
    return "".join(line + "\n" for line in lines)


def _labels_jsonl(labels: pd.DataFrame) -> str:
    lines = []
    for session, group in labels.groupby("session", sort=True):
        record: dict[str, Any] = {}
        for event_type in EVENT_TYPES:
            aids = group.loc[group["event_type"] == event_type, "aid"].astype(int).tolist()
            if aids:
                record[event_type] = aids[0] if event_type == "clicks" else aids
        lines.append(json.dumps({"session": int(session), "labels": record}) + "\n")
    return "".join(lines)

"""Log rows waiting for their week, written in time order with Moodle's columns.

Rows are added as numpy column batches (any time at or after the week being
played); flush(until) writes every row before `until`, sorted by time, with
ids from one increasing sequence, as logstore_standard_log holds them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa

from moodle_analytics.event_catalogue import EventType

ORIGINS = np.array(["web", "ws", "cli", "restore"], dtype=object)
WEB, WS, CLI, RESTORE = 0, 1, 2, 3
NULL = -1  # stands for SQL NULL in integer columns until the frame is built


def php_serialize(value: object) -> str:
    """PHP's serialize() for the scalars, lists and dicts Moodle keeps in `other`."""
    if value is None:
        return "N;"
    if isinstance(value, bool):
        return f"b:{int(value)};"
    if isinstance(value, int):
        return f"i:{value};"
    if isinstance(value, float):
        return f"d:{value!r};"
    if isinstance(value, str):
        return f's:{len(value.encode())}:"{value}";'
    items = value.items() if isinstance(value, dict) else enumerate(value)
    body = "".join(php_serialize(k) + php_serialize(v) for k, v in items)
    return f"a:{len(value)}:{{{body}}}"


class LogBuffer:
    COLUMNS = (
        "time",
        "user",
        "course",
        "event",
        "cm",
        "objectid",
        "related",
        "realuser",
        "anonymous",
        "origin",
        "other",
        "anomaly",
    )

    def __init__(
        self,
        catalogue: dict[str, EventType],
        lookups: dict[str, np.ndarray],
        write,
        json_since: int,
        rng: np.random.Generator,
    ):
        self.event_names = list(catalogue)
        self.event_index = {name: i for i, name in enumerate(self.event_names)}
        types = [catalogue[name] for name in self.event_names]
        self.component = np.array([t.component for t in types], dtype=object)
        self.action = np.array([t.action for t in types], dtype=object)
        self.target = np.array([t.target for t in types], dtype=object)
        self.objecttable = np.array([t.object_table for t in types], dtype=object)
        self.crud = np.array([t.crud for t in types], dtype=object)
        self.edulevel = np.array([t.edulevel for t in types], dtype=np.int16)
        self.context_level = np.array([t.context_level for t in types], dtype=np.int64)
        self.names = np.array(self.event_names, dtype=object)
        self.lookups = lookups
        self.write = write
        self.json_since = json_since
        self.rng = rng
        self.pending: list[dict[str, np.ndarray]] = []
        self.single_rows: list[tuple] = []
        self.next_id = 1
        self.rows_written = 0
        self.anomaly_ids: list[tuple[int, str]] = []
        self.first_seen = np.full(len(lookups["user_context"]), np.iinfo(np.int64).max)
        self.last_seen = np.zeros(len(lookups["user_context"]), dtype=np.int64)

    def encode_other(self, time: int, value: dict | list | None) -> str:
        """`other` as this site stored it then: PHP-serialised before json_since."""
        if time >= self.json_since:
            return json.dumps(value, separators=(",", ":"))
        return php_serialize(value)

    def add(
        self,
        time,
        user,
        event: str,
        course=0,
        cm=0,
        objectid=NULL,
        related=NULL,
        realuser=NULL,
        anonymous=0,
        origin=WEB,
        other=None,
        anomaly: str | None = None,
    ) -> None:
        """Queue rows; every argument is a scalar or an array as long as `time`."""
        if isinstance(time, int | np.integer):
            # One row: a tuple now, arrays once per flush (cheap for the many
            # single actions a week holds).
            self.single_rows.append(
                (
                    int(time),
                    user,
                    course,
                    self.event_index[event],
                    cm,
                    objectid,
                    related,
                    realuser,
                    anonymous,
                    origin,
                    other,
                    anomaly,
                )
            )
            return
        time = np.asarray(time, dtype=np.int64)
        n = len(time)
        if n == 0:
            return

        def column(value, dtype) -> np.ndarray:
            array = np.asarray(value, dtype=dtype)
            return np.full(n, array, dtype=dtype) if array.ndim == 0 else array

        batch = {
            "time": time,
            "user": column(user, np.int64),
            "course": column(course, np.int64),
            "event": np.full(n, self.event_index[event], dtype=np.int16),
            "cm": column(cm, np.int64),
            "objectid": column(objectid, np.int64),
            "related": column(related, np.int64),
            "realuser": column(realuser, np.int64),
            "anonymous": column(anonymous, np.int8),
            "origin": column(origin, np.int8),
            "other": column(other, object) if other is not None else np.full(n, None, dtype=object),
            "anomaly": np.full(n, anomaly, dtype=object),
        }
        self.pending.append(batch)

    def discard_from(self, moment: int) -> int:
        """Drop queued rows at or after `moment` (they have not happened yet); anomalies stay."""
        if self.single_rows:
            self.pending.append(self.single_rows_as_batch())
        kept, dropped = [], 0
        for batch in self.pending:
            keep = (batch["time"] < moment) | pd.notna(batch["anomaly"])
            dropped += int((~keep).sum())
            kept.append({c: v[keep] for c, v in batch.items()})
        self.pending = kept
        return dropped

    def single_rows_as_batch(self) -> dict[str, np.ndarray]:
        columns = list(zip(*self.single_rows, strict=True))
        self.single_rows = []
        dtypes = (
            np.int64,
            np.int64,
            np.int64,
            np.int16,
            np.int64,
            np.int64,
            np.int64,
            np.int64,
            np.int8,
            np.int8,
            object,
            object,
        )
        return {
            name: np.array(values, dtype=dtype)
            for name, values, dtype in zip(self.COLUMNS, columns, dtypes, strict=True)
        }

    def flush(self, until: int) -> int:
        """Write every queued row with time < until; return how many."""
        if self.single_rows:
            self.pending.append(self.single_rows_as_batch())
        if not self.pending:
            return 0
        merged = {c: np.concatenate([b[c] for b in self.pending]) for c in self.COLUMNS}
        due = merged["time"] < until
        self.pending = [{c: merged[c][~due] for c in self.COLUMNS}] if (~due).any() else []
        if not due.any():
            return 0
        rows = {c: merged[c][due] for c in self.COLUMNS}
        order = np.argsort(rows["time"], kind="stable")
        rows = {c: v[order] for c, v in rows.items()}
        frame = self.to_frame(rows)
        self.write(frame)
        self.rows_written += len(frame)
        return len(frame)

    def to_frame(self, rows: dict[str, np.ndarray]) -> pa.Table:
        n = len(rows["time"])
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        event = rows["event"].astype(np.int64)
        user, course, cm, time = rows["user"], rows["course"], rows["cm"], rows["time"]
        lookups = self.lookups
        level = self.context_level[event].copy()
        # Module events without a module (cannot happen in Moodle) fall back to the course.
        level[(level == 70) & (cm <= 0)] = 50
        level[(level == 50) & (course <= 0)] = 10
        instance = np.select([level == 70, level == 50, level == 30], [cm, course, user], default=0)
        safe = lambda table, keys: table[np.clip(keys, 0, len(table) - 1)]  # noqa: E731
        context = np.select(
            [level == 70, level == 50, level == 30],
            [
                safe(lookups["cm_context"], cm),
                safe(lookups["course_context"], course),
                safe(lookups["user_context"], user),
            ],
            default=1,
        )
        origin = rows["origin"].astype(np.int64)
        ip = np.where(
            origin == WS,
            safe(lookups["mobile_ip"], user),
            safe(lookups["home_ip"], user),
        ).astype(object)
        ip[(origin == CLI) | (origin == RESTORE)] = None
        other = rows["other"]
        missing = pd.isna(other)
        other[missing & (time >= self.json_since)] = "null"
        other[missing & (time < self.json_since)] = "N;"

        def nullable(values: np.ndarray) -> pa.Array:
            return pa.array(values, mask=values == NULL, type=pa.int64())

        def coded(dictionary: np.ndarray) -> pa.Array:
            return pa.DictionaryArray.from_arrays(
                pa.array(event.astype(np.int32)), pa.array(dictionary.tolist(), type=pa.string())
            )

        frame = pa.table(
            {
                "id": ids,
                "eventname": coded(self.names),
                "component": coded(self.component),
                "action": coded(self.action),
                "target": coded(self.target),
                "objecttable": coded(self.objecttable),
                "objectid": nullable(rows["objectid"]),
                "crud": coded(self.crud),
                "edulevel": self.edulevel[event],
                "contextid": context,
                "contextlevel": level,
                "contextinstanceid": instance,
                "userid": user,
                "courseid": pa.array(course, mask=course < 0, type=pa.int64()),
                "relateduserid": nullable(rows["related"]),
                "anonymous": rows["anonymous"].astype(np.int16),
                "other": pa.array(other.tolist(), type=pa.string()),
                "timecreated": time,
                "origin": pa.DictionaryArray.from_arrays(
                    pa.array(origin.astype(np.int32)), pa.array(ORIGINS.tolist())
                ),
                "ip": pa.array(ip.tolist(), type=pa.string()),
                "realuserid": nullable(rows["realuser"]),
            }
        )
        anomaly = rows["anomaly"]
        marked = np.flatnonzero(pd.notna(anomaly))
        self.anomaly_ids.extend((int(ids[i]), str(anomaly[i])) for i in marked)
        clean = pd.isna(anomaly) & (user > 0) & (user < len(self.first_seen))
        np.minimum.at(self.first_seen, user[clean], time[clean])
        np.maximum.at(self.last_seen, user[clean], time[clean])
        return frame

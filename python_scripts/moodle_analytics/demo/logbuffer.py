"""Log rows waiting for their week, written in time order with Moodle's columns.

Rows are added as numpy column batches (any time at or after the week being
played); flush(until) turns every row before `until` into Arrow columns,
sorted by time, with ids from one increasing sequence, as
logstore_standard_log holds them. Flushed rows are handed to `write` in chunks
of CHUNK_ROWS, so the log is never held whole.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa

from moodle_analytics.demo.tables import CHUNK_ROWS
from moodle_analytics.event_catalogue import EventType

ORIGINS = np.array(["web", "ws", "cli", "restore"], dtype=object)
WEB, WS, CLI, RESTORE = 0, 1, 2, 3
NULL = -1  # stands for SQL NULL in integer columns until the frame is built
# One encoder for every row: json.dumps would build a new one per call.
JSON = json.JSONEncoder(separators=(",", ":"))


def php_serialize(value: object) -> str:
    """PHP's serialize() for the scalars, lists and dicts Moodle keeps in `other`."""
    if value is None:
        return "N;"
    if isinstance(value, bool | np.bool_):
        return f"b:{int(value)};"
    if isinstance(value, int | np.integer):
        return f"i:{value};"
    if isinstance(value, float | np.floating):
        return f"d:{float(value)!r};"
    if isinstance(value, str):
        return f's:{len(value.encode())}:"{value}";'
    items = value.items() if isinstance(value, dict) else enumerate(value)
    body = "".join(php_serialize(k) + php_serialize(v) for k, v in items)
    return f"a:{len(value)}:{{{body}}}"


_SCALARS = (int, str, float, bool, type(None))
# PHP text of flat `other` dicts by (keys, value types), with a slot per value.
_TEMPLATES: dict[tuple, tuple[str, tuple[str, ...]]] = {}


def _template(signature: tuple, values: tuple) -> tuple[str, tuple[str, ...]]:
    parts, kinds = [], []
    for key, value in zip(signature[0], values, strict=True):
        label = php_serialize(key).replace("%", "%%")
        if value is None or isinstance(value, bool):
            parts.append(label + php_serialize(value))
            kinds.append("constant")
        elif isinstance(value, str):
            parts.append(label + 's:%d:"%s";')
            kinds.append("text")
        elif isinstance(value, int):
            parts.append(label + "i:%d;")
            kinds.append("number")
        else:
            parts.append(label + "d:%r;")
            kinds.append("number")
    template = (f"a:{len(values)}:{{" + "".join(parts) + "}", tuple(kinds))
    _TEMPLATES[signature] = template
    return template


def _json_value(value: object) -> str:
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    return JSON.encode(value)


def _fragments(values: np.ndarray, encode) -> np.ndarray:
    """encode() of each value, computed once per distinct value."""
    if values.dtype.kind in "iu":
        if encode is _json_value:
            return values.astype(str).astype(object)
        return np.char.add(np.char.add("i:", values.astype(str)), ";").astype(object)
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.array([encode(v) for v in distinct.tolist()], dtype=object)[inverse]


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
    DTYPES = (
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

    def __init__(
        self,
        catalogue: dict[str, EventType],
        lookups: dict[str, np.ndarray],
        write,
        json_since: int,
        rng: np.random.Generator,
        chunk_rows: int = CHUNK_ROWS,
    ):
        self.event_names = list(catalogue)
        self.event_index = {name: i for i, name in enumerate(self.event_names)}
        types = [catalogue[name] for name in self.event_names]
        # Dictionary columns need non-null values; a NULL objecttable is masked instead.
        self.objecttable_null = np.array([t.object_table is None for t in types])
        self.dictionaries = {
            "eventname": pa.array(self.event_names, type=pa.string()),
            "component": pa.array([t.component for t in types], type=pa.string()),
            "action": pa.array([t.action for t in types], type=pa.string()),
            "target": pa.array([t.target for t in types], type=pa.string()),
            "objecttable": pa.array([t.object_table or "" for t in types], type=pa.string()),
            "crud": pa.array([t.crud for t in types], type=pa.string()),
        }
        self.edulevel = np.array([t.edulevel for t in types], dtype=np.int16)
        self.context_level = np.array([t.context_level for t in types], dtype=np.int64)
        self.lookups = lookups
        self.write = write
        self.json_since = json_since
        self.rng = rng
        self.chunk_rows = chunk_rows
        self.pending: list[dict[str, np.ndarray]] = []
        self.single_rows: list[tuple] = []
        self.ready: list[pa.Table] = []
        self.ready_rows = 0
        self.flushed_until = np.iinfo(np.int64).min
        self.next_id = 1
        self.rows_written = 0
        self.anomaly_ids: list[tuple[int, str]] = []
        self.first_seen = np.full(len(lookups["user_context"]), np.iinfo(np.int64).max)
        self.last_seen = np.zeros(len(lookups["user_context"]), dtype=np.int64)

    # ----------------------------------------------------------------- other
    def encode_other(self, time: int, value: dict | list | None) -> str:
        """`other` as this site stored it at `time`: PHP-serialised before json_since."""
        if time >= self.json_since:
            return JSON.encode(value)
        if type(value) is dict:
            values = tuple(value.values())
            types = tuple(map(type, values))
            if all(t in _SCALARS for t in types):
                # The common case, a flat dict: fill a cached template.
                signature = (tuple(value), types)
                template = _TEMPLATES.get(signature) or _template(signature, values)
                fields = []
                for v, kind in zip(values, template[1], strict=True):
                    if kind == "text":
                        fields += (len(v.encode()), v)
                    elif kind == "number":
                        fields.append(v)
                return template[0] % tuple(fields)
        return php_serialize(value)

    def encode_many(self, times: np.ndarray, fields: dict[str, object]) -> np.ndarray:
        """`other` of many rows: each field is one value for all rows or an array per row.

        Same text as encode_other row by row, built from per-field fragments.
        """
        times = np.asarray(times, dtype=np.int64)
        out = np.empty(len(times), dtype=object)
        if not len(times):
            return out
        as_json = times >= self.json_since
        for wanted, encode in ((as_json, _json_value), (~as_json, php_serialize)):
            if not wanted.any():
                continue
            parts, columns = [], []
            for key, value in fields.items():
                label = _json_value(key) + ":" if encode is _json_value else php_serialize(key)
                if isinstance(value, np.ndarray):
                    parts.append(label.replace("%", "%%") + "%s")
                    columns.append(_fragments(value[wanted], encode))
                else:
                    parts.append((label + encode(value)).replace("%", "%%"))
            if encode is _json_value:
                template = "{" + ",".join(parts) + "}"
            else:
                template = f"a:{len(fields)}:{{" + "".join(parts) + "}"
            if columns:
                out[wanted] = [template % row for row in zip(*columns, strict=True)]
            else:
                out[wanted] = template % ()
        return out

    # ------------------------------------------------------------------ rows
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
        """Queue rows; every argument is a scalar or an array as long as `time`.

        Rows must not be older than what was flushed already (ids follow time);
        only injected anomalies may be.
        """
        if isinstance(time, int | np.integer):
            if time < self.flushed_until and anomaly is None:
                raise RuntimeError(f"{event} at {time} is before rows already written")
            # One row: a tuple now, arrays once per flush (cheap for the many
            # single actions a week holds).
            self.single_rows.append(
                (int(time), user, course, self.event_index[event], cm, objectid, related,
                 realuser, anonymous, origin, other, anomaly)
            )  # fmt: skip
            return
        time = np.asarray(time, dtype=np.int64)
        n = len(time)
        if n == 0:
            return
        if time.min() < self.flushed_until and anomaly is None:
            raise RuntimeError(f"{event} at {time.min()} is before rows already written")

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
        batch = {}
        for name, values, dtype in zip(self.COLUMNS, columns, self.DTYPES, strict=True):
            if dtype is object:
                array = np.empty(len(values), dtype=object)
                array[:] = values
            else:
                array = np.array(values, dtype=dtype)
            batch[name] = array
        return batch

    def flush(self, until: int) -> int:
        """Turn every queued row with time < until into log rows; return how many."""
        self.flushed_until = max(self.flushed_until, until)
        if self.single_rows:
            self.pending.append(self.single_rows_as_batch())
        if not self.pending:
            return 0
        pending, self.pending = self.pending, []
        merged = {}
        for c in self.COLUMNS:
            merged[c] = np.concatenate([b[c] for b in pending])
            for batch in pending:  # let each batch go as soon as it is copied
                del batch[c]
        del pending
        time = merged["time"]
        due = time < until
        if due.all():
            order = np.argsort(time, kind="stable")
        else:
            later = ~due
            self.pending = [{c: v[later] for c, v in merged.items()}]
            order = np.flatnonzero(due)
            order = order[np.argsort(time[order], kind="stable")]
        n = len(order)
        # Arrow columns a chunk at a time (rows picked in time order as they go),
        # so a busy week never is one big table.
        for first in range(0, n, self.chunk_rows):
            picked = order[first : first + self.chunk_rows]
            frame = self.to_frame({c: v[picked] for c, v in merged.items()})
            self.ready.append(frame)
            self.ready_rows += len(frame)
            while self.ready_rows >= self.chunk_rows:
                self.write_ready(self.chunk_rows)
        del merged
        self.rows_written += n
        return n

    def write_ready(self, rows: int | None = None) -> None:
        """Write the first `rows` ready rows (all when None); keep the rest ready."""
        if not self.ready:
            return
        ready = pa.concat_tables(self.ready)
        rows = len(ready) if rows is None else rows
        self.write(ready.slice(0, rows).combine_chunks())
        rest = ready.slice(rows)
        self.ready = [rest] if len(rest) else []
        self.ready_rows = len(rest)

    def close(self) -> None:
        """Write everything flushed and not yet written."""
        self.write_ready()

    def to_frame(self, rows: dict[str, np.ndarray]) -> pa.Table:
        """Log rows (in time order) as logstore_standard_log columns, with the next ids."""
        n = len(rows["time"])
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        event = rows["event"].astype(np.int32)
        user, course, time = rows["user"], rows["course"], rows["time"]
        level, instance, context = self.contexts(rows, event)
        origin = rows["origin"].astype(np.int32)
        other = rows["other"]
        missing = pd.isna(other)
        other[missing & (time >= self.json_since)] = "null"
        other[missing & (time < self.json_since)] = "N;"

        def nullable(values: np.ndarray) -> pa.Array:
            return pa.array(values, mask=values == NULL, type=pa.int64())

        indices = pa.array(event)

        def coded(name: str, mask: np.ndarray | None = None) -> pa.Array:
            codes = indices if mask is None else pa.array(event, mask=mask)
            return pa.DictionaryArray.from_arrays(codes, self.dictionaries[name])

        frame = pa.table(
            {
                "id": ids,
                "eventname": coded("eventname"),
                "component": coded("component"),
                "action": coded("action"),
                "target": coded("target"),
                "objecttable": coded("objecttable", self.objecttable_null[event]),
                "objectid": nullable(rows["objectid"]),
                "crud": coded("crud"),
                "edulevel": self.edulevel[event],
                "contextid": context,
                "contextlevel": level,
                "contextinstanceid": instance,
                "userid": user,
                "courseid": pa.array(course, mask=course < 0, type=pa.int64()),
                "relateduserid": nullable(rows["related"]),
                "anonymous": rows["anonymous"].astype(np.int16),
                "other": pa.array(other, type=pa.string()),
                "timecreated": time,
                "origin": pa.DictionaryArray.from_arrays(
                    pa.array(origin), pa.array(ORIGINS.tolist())
                ),
                "ip": pa.array(self.ip_addresses(user, origin), type=pa.string()),
                "realuserid": nullable(rows["realuser"]),
            }
        )
        self.remember(ids, rows)
        return frame

    def contexts(self, rows: dict[str, np.ndarray], event: np.ndarray):
        """contextlevel, contextinstanceid and contextid of each row."""
        user, course, cm, related = rows["user"], rows["course"], rows["cm"], rows["related"]
        lookups = self.lookups
        level = self.context_level[event]
        # Module events without a module (cannot happen in Moodle) fall back to the course.
        level[(level == 70) & (cm <= 0)] = 50
        level[(level == 50) & (course <= 0)] = 10
        # A user context is the one of the user the row is about, else the actor's.
        about = np.where(related > 0, related, user)
        instance = np.select(
            [level == 70, level == 50, level == 30], [cm, course, about], default=0
        )

        def context_of(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
            # An id beyond the table (an injected unknown course) has no context: 0.
            inside = (keys >= 0) & (keys < len(table))
            return np.where(inside, table[np.clip(keys, 0, len(table) - 1)], 0)

        context = np.select(
            [level == 70, level == 50, level == 30],
            [
                context_of(lookups["cm_context"], cm),
                context_of(lookups["course_context"], course),
                context_of(lookups["user_context"], about),
            ],
            default=1,
        )
        return level, instance, context

    def ip_addresses(self, user: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """The user's home or mobile address; none for cron and restores."""
        known = np.clip(user, 0, len(self.lookups["home_ip"]) - 1)
        ip = np.where(
            origin == WS, self.lookups["mobile_ip"][known], self.lookups["home_ip"][known]
        )
        ip[(origin == CLI) | (origin == RESTORE)] = None
        return ip

    def remember(self, ids: np.ndarray, rows: dict[str, np.ndarray]) -> None:
        """The injected rows' ids, and when each user was first and last seen."""
        user, time, anomaly = rows["user"], rows["time"], rows["anomaly"]
        marked = np.flatnonzero(pd.notna(anomaly))
        self.anomaly_ids.extend((int(ids[i]), str(anomaly[i])) for i in marked)
        clean = pd.isna(anomaly) & (user > 0) & (user < len(self.first_seen))
        np.minimum.at(self.first_seen, user[clean], time[clean])
        np.maximum.at(self.last_seen, user[clean], time[clean])

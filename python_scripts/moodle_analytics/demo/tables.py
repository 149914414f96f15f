"""Compact row stores for the generator, and a writer that works beside it.

Rows are kept as tuples in a fixed column order (one Python object per row,
not a dict) and turned into Arrow columns when written, so a table that only
grows can be written in chunks and never held whole.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from moodle_analytics.moodle_db.tables import MOODLE_TABLES
from moodle_analytics.moodle_sink import MoodleDuckDBWriter, column_defaults

# Rows per log insert: DuckDB appends a whole row group (122,880 rows) at a
# time for about a third of the per-row cost of small inserts.
CHUNK_ROWS = 122_880


def arrow_columns(table: str, names: Iterable[str], columns: Iterable) -> pa.Table:
    """An Arrow table of Moodle's column types, NULLs in NOT NULL columns set to the default."""
    types = {name: postgres_type for name, postgres_type, *_ in MOODLE_TABLES[table]}
    not_null = {name for name, _type, required, _default in MOODLE_TABLES[table] if required}
    defaults = column_defaults(table)
    arrays = {}
    for name, values in zip(names, columns, strict=True):
        postgres_type = types[name]
        if postgres_type.startswith(("varchar", "text")):
            arrow_type = pa.string()
        elif postgres_type.startswith("numeric"):
            arrow_type = pa.float64()
        else:
            arrow_type = pa.int64()
        if isinstance(values, pa.Array):
            array = values.cast(arrow_type)
        else:
            array = pa.array(values, type=arrow_type, from_pandas=True)
        if name in not_null and array.null_count and defaults[name] is not None:
            array = array.fill_null(pa.scalar(defaults[name], type=arrow_type))
        arrays[name] = array
    return pa.table(arrays)


class RowBuffer:
    """Rows of one Moodle table as tuples in a fixed column order.

    With a `write` callable, every CHUNK_ROWS rows go out and are forgotten;
    without one the rows are kept (for tables that change until the end).
    """

    def __init__(
        self,
        table: str,
        columns: tuple[str, ...],
        write: Callable[[str, pa.Table], None] | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ):
        unknown = set(columns) - {name for name, *_ in MOODLE_TABLES[table]}
        if unknown:
            raise ValueError(f"{table}: columns not in Moodle's schema: {sorted(unknown)}")
        self.table = table
        self.columns = columns
        self.rows: list[tuple] = []
        self.write = write
        self.chunk_rows = chunk_rows
        self.written = 0

    def add(self, *values) -> None:
        self.rows.append(values)
        if self.write is not None and len(self.rows) >= self.chunk_rows:
            self.flush()

    def extend(self, rows: Iterable[tuple]) -> None:
        self.rows.extend(rows)
        if self.write is not None and len(self.rows) >= self.chunk_rows:
            self.flush()

    def __len__(self) -> int:
        return self.written + len(self.rows)

    def to_arrow(self) -> pa.Table:
        columns = list(zip(*self.rows, strict=True)) or [[] for _ in self.columns]
        return arrow_columns(self.table, self.columns, columns)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(self.columns))

    def flush(self) -> None:
        if self.write is None or not self.rows:
            return
        frame = self.to_arrow()
        self.written += len(self.rows)
        self.rows = []
        self.write(self.table, frame)


class ParquetSpool:
    """Chunks of the tables that only grow, kept in Parquet files until the end.

    A chunk is final when written, so memory holds none of them. Each file
    holds about CHUNK_ROWS rows; at the end each file is one insert and one
    checkpoint, so DuckDB never has more than a chunk to settle at once.
    """

    def __init__(self, directory: Path, file_rows: int = CHUNK_ROWS):
        self.directory = directory
        self.file_rows = file_rows
        self.writers: dict[str, tuple[pq.ParquetWriter, int]] = {}
        self.files: dict[str, list[Path]] = {}

    def write(self, table: str, frame: pa.Table) -> None:
        if not len(frame):
            return
        writer, rows = self.writers.get(table, (None, 0))
        if writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            paths = self.files.setdefault(table, [])
            paths.append(self.directory / f"{table}.{len(paths)}.parquet")
            writer = pq.ParquetWriter(paths[-1], frame.schema)
        writer.write_table(frame.cast(writer.schema))
        rows += len(frame)
        if rows >= self.file_rows:
            writer.close()
            self.writers.pop(table, None)
        else:
            self.writers[table] = (writer, rows)

    def load_into(self, sink: MoodleDuckDBWriter) -> None:
        """Close the files and append them to their tables, a file at a time."""
        for writer, _rows in self.writers.values():
            writer.close()
        self.writers.clear()
        for table, paths in self.files.items():
            columns = pq.read_schema(paths[0]).names
            for path in paths:
                sink.append_parquet(table, [path], columns)
                sink.checkpoint()
        self.files.clear()


class BackgroundWriter:
    """Appends to the DuckDB tables on a second thread while the simulation goes on.

    DuckDB releases the GIL while it inserts, so on two cores the insert of one
    chunk overlaps with building the next. The queue is short, so at most a few
    chunks wait in memory; writes happen in the order they were handed over.
    """

    def __init__(
        self, writer: MoodleDuckDBWriter, depth: int = 1, checkpoint_rows: int = CHUNK_ROWS
    ):
        self.writer = writer
        self.checkpoint_rows = checkpoint_rows
        self.since_checkpoint = 0
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="duckdb-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None:
                try:
                    self.writer.append(*item)
                    self.since_checkpoint += len(item[1])
                    if self.since_checkpoint >= self.checkpoint_rows:
                        self.writer.checkpoint()
                        self.since_checkpoint = 0
                except BaseException as error:  # handed to the main thread
                    self.error = error

    def append(self, table: str, frame) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((table, frame))

    def close(self) -> None:
        """Wait for every queued chunk; re-raise a failed write."""
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Stop after an error elsewhere: skip what is queued, keep the first error."""
        self.error = self.error or RuntimeError("generation stopped")
        self.queue.put(None)
        self.thread.join()

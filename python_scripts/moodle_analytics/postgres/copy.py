"""Two ways to copy a MoodleSource's rows into PostgreSQL tables that already exist.

* ``duckdb``: DuckDB's postgres extension attaches the database and runs
  INSERT ... SELECT, which it streams as binary COPY;
* ``copy``: DuckDB hands out Arrow batches, pyarrow writes them as CSV and
  psycopg2 streams that into COPY ... FROM STDIN.

Each copies one table, or one id range of it (``where``), so that load.py can
run several side by side (run_parallel).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import duckdb
import psycopg2
import pyarrow.csv as pa_csv

from moodle_analytics.moodle_db.source import LoadError, MoodleSource
from moodle_analytics.moodle_db.tables import MOODLE_TABLES
from moodle_analytics.postgres.extension import ExtensionError, load_postgres_extension
from moodle_analytics.postgres.schema import qualified

METHODS = ("duckdb", "copy")


def run_parallel(tasks: list[Callable[[], None]], jobs: int) -> None:
    """Run the tasks, ``jobs`` at a time; the first failure is raised."""
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(task) for task in tasks]
        for future in futures:
            future.result()


class _ArrowCsvStream(io.RawIOBase):
    """File-like CSV bytes produced batch by batch, for psycopg2's copy_expert."""

    def __init__(self, reader) -> None:
        self.batches = iter(reader)
        self.chunk = memoryview(b"")
        self.options = pa_csv.WriteOptions(include_header=False)

    def readable(self) -> bool:
        return True

    def _refill(self) -> None:
        for batch in self.batches:
            if batch.num_rows:
                sink = io.BytesIO()
                pa_csv.write_csv(batch, sink, self.options)
                self.chunk = sink.getbuffer()
                return

    def read(self, size: int = -1) -> bytes:
        # Short reads are fine for COPY; only b"" means the end.
        if not self.chunk:
            self._refill()
        if size < 0:
            size = len(self.chunk)
        data, self.chunk = self.chunk[:size], self.chunk[size:]
        return bytes(data)


class CsvCopier:
    """COPY ... FROM STDIN of CSV that pyarrow writes from DuckDB's Arrow batches."""

    def __init__(self, source: MoodleSource, dsn: str):
        self.source = source
        self.dsn = dsn

    def __call__(self, schema: str, prefix: str, table: str, where: str) -> None:
        cursor = self.source.connection.cursor()
        try:
            reader = cursor.execute(self.source.select(table, where)).to_arrow_reader(100_000)
            columns = ", ".join(f'"{name}"' for name, *_ in MOODLE_TABLES[table])
            statement = (
                f"COPY {qualified(schema, prefix, table)} ({columns}) FROM STDIN WITH (FORMAT csv)"
            )
            conn = psycopg2.connect(self.dsn)
            try:
                with conn, conn.cursor() as target:
                    target.copy_expert(statement, _ArrowCsvStream(reader), size=1 << 20)
            finally:
                conn.close()
        finally:
            cursor.close()

    def close(self) -> None:
        pass


class DuckDBInserter:
    """INSERT ... SELECT through DuckDB's attached PostgreSQL database."""

    def __init__(self, source: MoodleSource, dsn: str):
        self.source = source
        try:
            load_postgres_extension(source.connection)
        except ExtensionError as error:
            raise LoadError(f"{error}; or use method='copy'") from None
        literal = dsn.replace("'", "''")
        source.connection.execute(f"ATTACH '{literal}' AS moodle_pg (TYPE postgres, READ_WRITE)")

    def __call__(self, schema: str, prefix: str, table: str, where: str) -> None:
        cursor = self.source.connection.cursor()
        try:
            cursor.execute(
                f'INSERT INTO moodle_pg."{schema}"."{prefix}{table}" '
                f"{self.source.select(table, where)}"
            )
        finally:
            cursor.close()

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.source.connection.execute("DETACH moodle_pg")


def copier(method: str, source: MoodleSource, dsn: str) -> DuckDBInserter | CsvCopier:
    """The copier of ``method`` (one of METHODS); close() it when done."""
    if method == "duckdb":
        return DuckDBInserter(source, dsn)
    return CsvCopier(source, dsn)

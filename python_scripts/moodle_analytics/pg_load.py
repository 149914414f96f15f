"""Load the Moodle tables into PostgreSQL exactly as Moodle holds them.

Tables get Moodle's columns, types, defaults and NOT NULL (MOODLE_TABLES), then,
after the rows are in (building indexes once is far faster than maintaining them
row by row), Moodle's primary keys, indexes and id sequences (pg_schema).

The source is the demo generator's DuckDB file or a directory of Parquet files
named <prefix><table>.parquet. Two ways to move the rows:

* ``duckdb``: DuckDB's postgres extension attaches the database and runs
  INSERT ... SELECT, which it streams as binary COPY;
* ``copy``: DuckDB hands out Arrow batches, pyarrow writes them as CSV and psycopg2
  streams that into COPY ... FROM STDIN.

``duckdb`` is the default: moving 9.9M log rows took 23 s against 31 s with ``copy``
(2 CPUs), as PostgreSQL parses binary rows faster than CSV. Index building, not
copying, is most of a big load.

Both can split the big log table into id ranges copied side by side, and indexes
are built several at a time (``jobs``).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.errors
import pyarrow.csv as pa_csv
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from moodle_analytics.moodle_tables import MOODLE_TABLES
from moodle_analytics.pg_extension import ExtensionError, load_postgres_extension
from moodle_analytics.pg_schema import (
    MOODLE_KEYS,
    create_table_sql,
    duckdb_type,
    index_sql,
    primary_key_sql,
    qualified,
    sequence_sql,
)

METHODS = ("duckdb", "copy")
# Tables bigger than this are split into id ranges for parallel loading.
SPLIT_ROWS = 200_000
NAME = re.compile(r"[a-z_][a-z0-9_]*")


class LoadError(RuntimeError):
    """The source or target is not as expected; the message says what to do."""


@dataclass
class LoadResult:
    database: str
    schema: str
    prefix: str
    method: str
    row_counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


def _check_name(kind: str, value: str) -> None:
    if not NAME.fullmatch(value):
        raise LoadError(f"{kind} {value!r} must be lowercase letters, digits and _")


# -- source -----------------------------------------------------------------------
class MoodleSource:
    """The Moodle tables in a DuckDB file or a directory of Parquet files."""

    def __init__(self, path: str | Path, schema: str = "public", prefix: str = "mdl_"):
        self.path = Path(path)
        self.prefix = prefix
        if self.path.is_dir():
            self.connection = duckdb.connect()
            missing = []
            for table in MOODLE_TABLES:
                file = self.path / f"{prefix}{table}.parquet"
                if not file.exists():
                    missing.append(file.name)
                    continue
                literal = str(file).replace("'", "''")
                self.connection.execute(
                    f"CREATE VIEW \"{prefix}{table}\" AS SELECT * FROM read_parquet('{literal}')"
                )
            if missing:
                raise LoadError(f"{self.path} lacks {len(missing)} Parquet files: {missing}")
            self.schema = "main"
        elif self.path.is_file():
            try:
                self.connection = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as error:
                raise LoadError(f"cannot open {self.path} as a DuckDB database: {error}") from None
            self.schema = schema
        else:
            raise LoadError(f"{self.path} not found (expected a DuckDB file or Parquet directory)")
        self._check_columns()

    def relation(self, table: str) -> str:
        return f'"{self.schema}"."{self.prefix}{table}"'

    def _check_columns(self) -> None:
        rows = self.connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?",
            [self.schema],
        ).fetchall()
        present: dict[str, set[str]] = {}
        for table_name, column_name in rows:
            present.setdefault(table_name, set()).add(column_name)
        problems = []
        for table, columns in MOODLE_TABLES.items():
            have = present.get(self.prefix + table)
            if have is None:
                problems.append(f"table {self.schema}.{self.prefix}{table} missing")
                continue
            lacking = [name for name, *_ in columns if name not in have]
            if lacking:
                problems.append(f"{self.prefix}{table} lacks columns {lacking}")
        if problems:
            raise LoadError(f"{self.path} is not a Moodle source: " + "; ".join(problems[:10]))

    def select(self, table: str, where: str = "") -> str:
        """Moodle's columns in Moodle's order, cast to the type PostgreSQL will hold."""
        columns = ", ".join(
            f'CAST("{name}" AS {duckdb_type(postgres_type)}) AS "{name}"'
            for name, postgres_type, *_ in MOODLE_TABLES[table]
        )
        return f"SELECT {columns} FROM {self.relation(table)} {where}"

    def count(self, table: str) -> int:
        return self.connection.execute(f"SELECT count(*) FROM {self.relation(table)}").fetchone()[0]

    def id_ranges(self, table: str, parts: int) -> list[str]:
        """WHERE clauses that split a table into ``parts`` id ranges of similar size."""
        if parts <= 1:
            return [""]
        low, high = self.connection.execute(
            f"SELECT min(id), max(id) FROM {self.relation(table)}"
        ).fetchone()
        if low is None:
            return [""]
        step = (high - low) // parts + 1
        return [
            f"WHERE id >= {low + k * step} AND id < {low + (k + 1) * step}" for k in range(parts)
        ]

    def close(self) -> None:
        self.connection.close()


# -- the two ways to copy rows ------------------------------------------------------
def _postgres_extension(connection: duckdb.DuckDBPyConnection) -> None:
    """Load DuckDB's postgres extension offline (pg_extension), or LoadError."""
    try:
        load_postgres_extension(connection)
    except ExtensionError as error:
        raise LoadError(f"{error}; or use method='copy'") from None


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


def _copy_with_psycopg2(
    source: MoodleSource, dsn: str, schema: str, prefix: str, table: str, where: str
) -> None:
    cursor = source.connection.cursor()
    try:
        reader = cursor.execute(source.select(table, where)).to_arrow_reader(100_000)
        columns = ", ".join(f'"{name}"' for name, *_ in MOODLE_TABLES[table])
        statement = (
            f"COPY {qualified(schema, prefix, table)} ({columns}) FROM STDIN WITH (FORMAT csv)"
        )
        conn = psycopg2.connect(dsn)
        try:
            with conn, conn.cursor() as target:
                target.copy_expert(statement, _ArrowCsvStream(reader), size=1 << 20)
        finally:
            conn.close()
    finally:
        cursor.close()


class _DuckDBInserter:
    """INSERT ... SELECT through DuckDB's attached PostgreSQL database."""

    def __init__(self, source: MoodleSource, dsn: str):
        self.source = source
        _postgres_extension(source.connection)
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


# -- the target -------------------------------------------------------------------
def ensure_database(dsn: str, database: str) -> bool:
    """Create ``database`` on the server of ``dsn`` unless it exists; True if created."""
    _check_name("database name", database)
    params = parse_dsn(dsn)
    maintenance = params.get("dbname") or "postgres"
    if maintenance == database:
        maintenance = "postgres"
    conn = psycopg2.connect(make_dsn(dsn, dbname=maintenance))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cursor.fetchone():
                return False
            # template0 so the database is UTF8 whatever template1 holds, as Moodle requires.
            cursor.execute(
                sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(database)
                )
            )
            return True
    finally:
        conn.close()


def existing_tables(conn, schema: str, prefix: str) -> list[str]:
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        )
        names = {row[0] for row in cursor.fetchall()}
    return [table for table in MOODLE_TABLES if prefix + table in names]


def _run_parallel(tasks: list[Callable[[], None]], jobs: int) -> None:
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(task) for task in tasks]
        for future in futures:
            future.result()


def _build_keys(
    dsn: str,
    schema: str,
    prefix: str,
    order: list[str],
    jobs: int,
    strict: bool,
    maintenance_work_mem: str,
) -> list[str]:
    """Primary keys and Moodle's indexes, biggest tables first, ``jobs`` at a time."""
    warnings: list[str] = []
    statements: list[tuple[str, str, bool]] = []
    for table in order:
        statements.append((table, primary_key_sql(table, prefix, schema), False))
        for index in MOODLE_KEYS[table].indexes:
            statements.append((table, index_sql(table, index, prefix, schema), index.unique))
    local = threading.local()
    connections = []
    lock = threading.Lock()

    def connection():
        if not hasattr(local, "conn"):
            local.conn = psycopg2.connect(dsn)
            local.conn.autocommit = True
            with local.conn.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = %s", (maintenance_work_mem,))
            with lock:
                connections.append(local.conn)
        return local.conn

    def run(table: str, statement: str, unique: bool) -> None:
        with connection().cursor() as cursor:
            try:
                cursor.execute(statement)
            except psycopg2.errors.UniqueViolation as error:
                detail = error.diag.message_detail or str(error).strip()
                message = f"{prefix}{table}: source breaks Moodle's unique index ({detail})"
                if strict or not unique:
                    raise LoadError(message) from None
                # Keep going with a plain index so the copy stays usable; say so.
                cursor.execute(statement.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1))
                with lock:
                    warnings.append(message + "; created it as a non-unique index")

    try:
        _run_parallel([lambda s=s: run(*s) for s in statements], jobs)
    finally:
        for conn in connections:
            conn.close()
    return warnings


def load_moodle(
    dsn: str,
    source: str | Path,
    *,
    database: str = "moodle",
    schema: str = "public",
    prefix: str = "mdl_",
    source_schema: str = "public",
    source_prefix: str | None = None,
    method: str = "duckdb",
    jobs: int | None = None,
    replace: bool = False,
    keys: bool = True,
    strict: bool = False,
    private_schema: bool = True,
    maintenance_work_mem: str = "1GB",
    log: Callable[[str], None] | None = None,
) -> LoadResult:
    """Load every table of MOODLE_TABLES from ``source`` into ``database``.

    ``dsn`` is a libpq connection string for the server (its dbname is replaced by
    ``database``, which is created if missing). ``replace`` drops Moodle tables that
    already exist (with anything built on them). A source breaking one of Moodle's
    unique indexes gets a plain index and a warning, or a LoadError with ``strict``.
    ``private_schema`` revokes PUBLIC's access to ``schema`` so only roles granted
    access (pg_roles) can see the Moodle tables.
    """
    if method not in METHODS:
        raise LoadError(f"method must be one of {METHODS}, not {method!r}")
    for kind, value in (("schema", schema), ("prefix", prefix), ("source schema", source_schema)):
        _check_name(kind, value)
    cpus = os.cpu_count() or 1
    # Each COPY keeps one PostgreSQL backend and one DuckDB thread busy, while each
    # CREATE INDEX also gets parallel workers; measured best on 2 CPUs: 1 and 2.
    copy_jobs = jobs or max(1, cpus // 2)
    index_jobs = jobs or min(4, cpus)
    say = log or (lambda message: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def lap(phase: str, since: float) -> float:
        now = time.perf_counter()
        seconds[phase] = round(now - since, 2)
        say(f"{phase}: {seconds[phase]:.1f} s")
        return now

    moodle = MoodleSource(source, source_schema, prefix if source_prefix is None else source_prefix)
    try:
        ensure_database(dsn, database)
        target_dsn = make_dsn(dsn, dbname=database)
        expected = {table: moodle.count(table) for table in MOODLE_TABLES}
        # Biggest first, so the log table is not the one left running alone at the end.
        order = sorted(MOODLE_TABLES, key=lambda table: -expected[table])

        conn = psycopg2.connect(target_dsn)
        try:
            with conn, conn.cursor() as cursor:
                present = existing_tables(conn, schema, prefix)
                if present and not replace:
                    raise LoadError(
                        f"{database}.{schema} already holds {len(present)} Moodle tables "
                        f"({prefix}{present[0]}, ...); pass replace=True (--replace) to reload"
                    )
                for table in present:
                    cursor.execute(f"DROP TABLE {qualified(schema, prefix, table)} CASCADE")
                cursor.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
                for table in MOODLE_TABLES:
                    cursor.execute(create_table_sql(table, prefix, schema))
        finally:
            conn.close()
        mark = lap("create tables", started)

        tasks: list[tuple[str, str]] = []
        for table in order:
            parts = min(copy_jobs, -(-expected[table] // SPLIT_ROWS)) if expected[table] else 0
            tasks += [(table, where) for where in moodle.id_ranges(table, parts)] if parts else []
        if method == "duckdb":
            inserter = _DuckDBInserter(moodle, target_dsn)
            try:
                _run_parallel(
                    [lambda t=t, w=w: inserter(schema, prefix, t, w) for t, w in tasks],
                    copy_jobs,
                )
            finally:
                inserter.close()
        else:
            _run_parallel(
                [
                    lambda t=t, w=w: _copy_with_psycopg2(moodle, target_dsn, schema, prefix, t, w)
                    for t, w in tasks
                ],
                copy_jobs,
            )
        mark = lap(f"copy rows ({method}, {copy_jobs} at a time)", mark)

        warnings: list[str] = []
        if keys:
            warnings = _build_keys(
                target_dsn, schema, prefix, order, index_jobs, strict, maintenance_work_mem
            )
            for warning in warnings:
                say(f"warning: {warning}")
            mark = lap(f"primary keys and indexes ({index_jobs} at a time)", mark)

        conn = psycopg2.connect(target_dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                for table in MOODLE_TABLES:
                    for statement in sequence_sql(table, prefix, schema):
                        cursor.execute(statement)
                if private_schema:
                    cursor.execute(
                        sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(
                            sql.Identifier(schema)
                        )
                    )
                # Planner statistics now rather than whenever autovacuum gets round to it.
                for table in order:
                    cursor.execute(f"ANALYZE {qualified(schema, prefix, table)}")
                counts = {}
                for table in MOODLE_TABLES:
                    cursor.execute(f"SELECT count(*) FROM {qualified(schema, prefix, table)}")
                    counts[table] = cursor.fetchone()[0]
        finally:
            conn.close()
        lap("sequences, grants, analyze", mark)
    finally:
        moodle.close()

    wrong = {
        table: (counts[table], expected[table])
        for table in counts
        if counts[table] != expected[table]
    }
    if wrong:
        raise LoadError(f"row counts differ from the source (loaded, source): {wrong}")
    seconds["total"] = round(time.perf_counter() - started, 2)
    return LoadResult(database, schema, prefix, method, counts, seconds, warnings)

"""Load the Moodle tables into PostgreSQL exactly as Moodle holds them.

Tables get Moodle's columns, types, defaults and NOT NULL (moodle_db.ddl), then,
after the rows are in (building indexes once is far faster than maintaining them
row by row), Moodle's primary keys, indexes and id sequences (schema.py).

The source is a MoodleSource: the demo generator's DuckDB file or a directory of
Parquet files named <prefix><table>.parquet. Rows move one of two ways (copy.py):
``duckdb`` is the default, as moving 9.9M log rows took 23 s against 31 s with
``copy`` (2 CPUs): PostgreSQL parses binary rows faster than CSV. Index building,
not copying, is most of a big load.

The big log table is split into id ranges copied side by side, and indexes are
built several at a time (``jobs``).

A load is all or nothing: the tables are filled in a schema of their own
(``<schema>__loading``) and, once every row, key and index is in, moved into
the target schema in one transaction (dropping the Moodle tables it held, with
--replace). A failed load drops its loading schema; the target schema is as it was.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from moodle_analytics.moodle_db.ddl import POSTGRES, create_table_sql, is_identifier
from moodle_analytics.moodle_db.source import LoadError, MoodleSource, PhaseClock
from moodle_analytics.moodle_db.source import LoadResult as MoodleLoadResult
from moodle_analytics.moodle_db.tables import MOODLE_KEYS, MOODLE_TABLES
from moodle_analytics.postgres.copy import METHODS, copier, run_parallel
from moodle_analytics.postgres.schema import (
    index_sql,
    moodle_tables_in,
    primary_key_sql,
    qualified,
    sequence_sql,
)

__all__ = ["METHODS", "LoadError", "LoadResult", "ensure_database", "load_moodle"]

# Tables bigger than this are split into id ranges for parallel loading.
SPLIT_ROWS = 200_000


@dataclass
class LoadResult(MoodleLoadResult):
    """What load_moodle wrote, and where: the schema, and how the rows were moved."""

    schema: str = "public"
    method: str = "duckdb"


def _check_name(kind: str, value: str) -> None:
    if not is_identifier(value):
        raise LoadError(f"{kind} {value!r} must be lowercase letters, digits and _")


def ensure_database(dsn: str, database: str) -> bool:
    """Create ``database`` on the server of ``dsn`` unless it exists; True if created."""
    _check_name("database name", database)
    maintenance = parse_dsn(dsn).get("dbname") or "postgres"
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


def loading_schema(schema: str) -> str:
    """The schema a load fills before its tables move into ``schema``."""
    return f"{schema}__loading"


def _refuse_unless_replacing(cursor, schema: str, prefix: str, replace: bool) -> list[str]:
    """The Moodle tables ``schema`` holds; a LoadError if there are some and not ``replace``."""
    present = moodle_tables_in(cursor, schema, prefix)
    if present and not replace:
        raise LoadError(
            f"{cursor.connection.info.dbname}.{schema} already holds {len(present)} Moodle "
            f"tables ({prefix}{present[0]}, ...); pass replace=True (--replace) to reload"
        )
    return present


def _create_tables(dsn: str, schema: str, prefix: str, replace: bool) -> None:
    """Moodle's tables, empty, in the loading schema of ``schema`` (made afresh)."""
    loading = sql.Identifier(loading_schema(schema))
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cursor:
            _refuse_unless_replacing(cursor, schema, prefix, replace)
            cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(loading))
            cursor.execute(sql.SQL("CREATE SCHEMA {}").format(loading))
            for table in MOODLE_TABLES:
                cursor.execute(create_table_sql(table, POSTGRES, prefix, loading_schema(schema)))
    finally:
        conn.close()


def _swap_in(dsn: str, schema: str, prefix: str, replace: bool, private_schema: bool) -> None:
    """In one transaction: the Moodle tables ``schema`` held are dropped (with what is
    built on them) and the loaded ones, with their keys, indexes and sequences, move in.
    Readers see the old tables or the new ones, never a part of either."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            for table in _refuse_unless_replacing(cursor, schema, prefix, replace):
                cursor.execute(f"DROP TABLE {qualified(schema, prefix, table)} CASCADE")
            for table in MOODLE_TABLES:
                cursor.execute(
                    sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                        sql.SQL(qualified(loading_schema(schema), prefix, table)),
                        sql.Identifier(schema),
                    )
                )
            cursor.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(loading_schema(schema))))
            if private_schema:
                cursor.execute(
                    sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema))
                )
    finally:
        conn.close()


def _drop_loading_schema(dsn: str, schema: str) -> None:
    """What a failed load wrote, removed; the tables of ``schema`` were never touched."""
    try:
        conn = psycopg2.connect(dsn)
    except psycopg2.Error:
        return
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(loading_schema(schema))
                )
            )
    except psycopg2.Error:
        pass
    finally:
        conn.close()


def _copy_rows(
    source: MoodleSource,
    dsn: str,
    schema: str,
    prefix: str,
    expected: dict[str, int],
    method: str,
    jobs: int,
) -> None:
    """Every table, big ones in id ranges of about SPLIT_ROWS, ``jobs`` at a time."""
    tasks: list[tuple[str, str]] = []
    for table, rows in expected.items():
        parts = min(jobs, -(-rows // SPLIT_ROWS))
        tasks += [(table, where) for where in source.id_ranges(table, parts)] if rows else []
    copy = copier(method, source, dsn)
    try:
        run_parallel([lambda t=t, w=w: copy(schema, prefix, t, w) for t, w in tasks], jobs)
    finally:
        copy.close()


def _key_statements(order: list[str], schema: str, prefix: str) -> list[tuple[str, str, bool]]:
    """(table, statement, is a unique index) for every primary key and index."""
    statements = []
    for table in order:
        statements.append((table, primary_key_sql(table, prefix, schema), False))
        for index in MOODLE_KEYS[table].indexes:
            statements.append((table, index_sql(table, index, prefix, schema), index.unique))
    return statements


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
        statements = _key_statements(order, schema, prefix)
        run_parallel([lambda s=s: run(*s) for s in statements], jobs)
    finally:
        for conn in connections:
            conn.close()
    return warnings


def _finish_tables(dsn: str, schema: str, prefix: str, order: list[str]) -> dict[str, int]:
    """Id sequences and planner statistics; the row counts loaded."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for table in MOODLE_TABLES:
                for statement in sequence_sql(table, prefix, schema):
                    cursor.execute(statement)
            # Planner statistics now rather than whenever autovacuum gets round to it.
            for table in order:
                cursor.execute(f"ANALYZE {qualified(schema, prefix, table)}")
            counts = {}
            for table in MOODLE_TABLES:
                cursor.execute(f"SELECT count(*) FROM {qualified(schema, prefix, table)}")
                counts[table] = cursor.fetchone()[0]
    finally:
        conn.close()
    return counts


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
    ``database``, which is created if missing). The tables are loaded into a schema
    of their own (loading_schema) and moved into ``schema`` in one transaction once
    every row, key and index is in: a failed load leaves ``schema`` as it was.
    ``replace`` drops Moodle tables that already exist (with anything built on them)
    in that transaction. A source breaking one of Moodle's
    unique indexes gets a plain index and a warning, or a LoadError with ``strict``.
    ``private_schema`` revokes PUBLIC's access to ``schema`` so only roles granted
    access (roles.py) can see the Moodle tables.
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
    clock = PhaseClock(log)
    _check_name("loading schema", loading_schema(schema))
    source_prefix = prefix if source_prefix is None else source_prefix
    loading = loading_schema(schema)
    with closing(MoodleSource(source, source_schema, source_prefix)) as moodle:
        ensure_database(dsn, database)
        target = make_dsn(dsn, dbname=database)
        try:
            # Biggest first, so the log table is not the one left running alone at the end.
            counts = {table: moodle.count(table) for table in MOODLE_TABLES}
            expected = dict(sorted(counts.items(), key=lambda item: -item[1]))
            _create_tables(target, schema, prefix, replace)
            clock.lap("create tables")
            _copy_rows(moodle, target, loading, prefix, expected, method, copy_jobs)
            clock.lap(f"copy rows ({method}, {copy_jobs} at a time)")
            warnings: list[str] = []
            if keys:
                order = list(expected)
                warnings = _build_keys(
                    target, loading, prefix, order, index_jobs, strict, maintenance_work_mem
                )
                for warning in warnings:
                    clock.say(f"warning: {warning}")
                clock.lap(f"primary keys and indexes ({index_jobs} at a time)")
            loaded = _finish_tables(target, loading, prefix, list(expected))
            clock.lap("sequences, analyze")
            wrong = {
                table: (loaded[table], count)
                for table, count in expected.items()
                if loaded[table] != count
            }
            if wrong:
                raise LoadError(f"row counts differ from the source (loaded, source): {wrong}")
            _swap_in(target, schema, prefix, replace, private_schema)
            clock.lap(f"move into {schema}, grants")
        except BaseException:
            _drop_loading_schema(target, schema)
            raise
    return LoadResult(
        database, prefix, loaded, clock.total(), warnings, schema=schema, method=method
    )

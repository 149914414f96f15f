"""Load the Moodle tables into MySQL/MariaDB exactly as Moodle's installer creates them.

The tables are built in a database of their own, <database>__loading, and moved
into <database> in one atomic RENAME TABLE once every row is in and counted, so
a failed load leaves the Moodle tables there as they were. Each table gets
Moodle's columns as XMLDB writes them on MySQL (moodle_db.ddl,
dialect MYSQL: BIGINT ids with AUTO_INCREMENT and the primary key, TINYINT to
BIGINT by declared length, VARCHAR, LONGTEXT, DECIMAL; InnoDB, utf8mb4 with
utf8mb4_unicode_ci), in a database created with the same character set. Rows
move through DuckDB's mysql extension (INSERT ... SELECT from the MoodleSource),
then each table gets Moodle's indexes in one ALTER TABLE (InnoDB builds them
far faster after the rows than row by row), and AUTO_INCREMENT continues past
the largest id.

On MySQL a database is a schema: the tables are <database>.<prefix><table>.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import duckdb

from moodle_analytics.moodle_db.ddl import MYSQL, create_table_sql, is_identifier
from moodle_analytics.moodle_db.source import LoadError, LoadResult, MoodleSource, PhaseClock
from moodle_analytics.moodle_db.tables import MOODLE_KEYS, MOODLE_TABLES, MoodleIndex
from moodle_analytics.mysql.check import (
    MySQLSettings,
    connect,
    execute,
    moodle_tables_in,
    query,
)

__all__ = ["LoadError", "MySQLLoadResult", "index_sql", "load_moodle"]

quote = MYSQL.quote
# MySQL's error for a row breaking a unique index.
DUPLICATE_KEY = "1062"
COPY_BATCH_ROWS = 100_000


MySQLLoadResult = LoadResult


def index_sql(index: MoodleIndex, prefix: str = "mdl_", unique: bool | None = None) -> str:
    """One ADD INDEX clause of Moodle's ALTER TABLE: mdl_<index name> (columns)."""
    unique = index.unique if unique is None else unique
    kind = "UNIQUE INDEX" if unique else "INDEX"
    columns = ", ".join(quote(column) for column in index.columns)
    return f"ADD {kind} {quote(prefix + index.name)} ({columns})"


def create_database_sql(database: str) -> str:
    return (
        f"CREATE DATABASE IF NOT EXISTS {quote(database)} "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )


def _create_tables(connection, loading: str, prefix: str) -> None:
    """An empty database ``loading`` holding Moodle's tables, none of its rows yet."""
    execute(connection, f"DROP DATABASE IF EXISTS {quote(loading)}")
    execute(connection, create_database_sql(loading))
    for table in MOODLE_TABLES:
        execute(connection, create_table_sql(table, MYSQL, prefix, loading))


def _swap_in(connection, loading: str, database: str, prefix: str, present: list[str]) -> None:
    """Move the loaded tables into ``database`` in one atomic RENAME TABLE, the Moodle
    tables already there out to a database then dropped."""
    execute(connection, create_database_sql(database))
    replaced = f"{database}__replaced"
    execute(connection, f"DROP DATABASE IF EXISTS {quote(replaced)}")
    moves = []
    if present:
        execute(connection, create_database_sql(replaced))
        moves += [
            f"{MYSQL.qualified(database, prefix, t)} TO {MYSQL.qualified(replaced, prefix, t)}"
            for t in present
        ]
    moves += [
        f"{MYSQL.qualified(loading, prefix, t)} TO {MYSQL.qualified(database, prefix, t)}"
        for t in MOODLE_TABLES
    ]
    execute(connection, "RENAME TABLE " + ", ".join(moves))
    execute(connection, f"DROP DATABASE IF EXISTS {quote(replaced)}")


def _add_indexes(connection, database: str, prefix: str, table: str, strict: bool) -> list[str]:
    """Moodle's indexes of one table; a unique one the rows break becomes a plain index
    with a warning (or a LoadError with ``strict``)."""
    indexes = MOODLE_KEYS[table].indexes
    if not indexes:
        return []
    target = MYSQL.qualified(database, prefix, table)
    try:
        execute(
            connection, f"ALTER TABLE {target} " + ", ".join(index_sql(i, prefix) for i in indexes)
        )
        return []
    except duckdb.Error as error:
        if DUPLICATE_KEY not in str(error) and "Duplicate entry" not in str(error):
            raise
        message = f"{prefix}{table}: source breaks one of Moodle's unique indexes ({error})"
        if strict:
            raise LoadError(message) from None
    clauses = ", ".join(index_sql(index, prefix, unique=False) for index in indexes)
    execute(connection, f"ALTER TABLE {target} {clauses}")
    return [message + "; created them as non-unique indexes"]


def _copy_table(moodle: MoodleSource, connection, database: str, prefix: str, table: str) -> None:
    rows = moodle.connection.execute(moodle.select(table)).to_arrow_reader(COPY_BATCH_ROWS)
    connection.register("moodle_rows", rows)
    try:
        connection.execute(
            f'INSERT INTO mysql."{database}"."{prefix}{table}" SELECT * FROM moodle_rows'
        )
    finally:
        connection.unregister("moodle_rows")


def load_moodle(
    settings: MySQLSettings,
    source: str | Path,
    *,
    database: str = "moodle",
    prefix: str = "mdl_",
    source_schema: str = "public",
    source_prefix: str | None = None,
    replace: bool = False,
    strict: bool = False,
    log: Callable[[str], None] | None = None,
) -> MySQLLoadResult:
    """Load every table of MOODLE_TABLES from ``source`` into ``database`` (created if
    missing) on the server of ``settings``, a login that may create databases.
    ``replace`` drops Moodle tables that are already there."""
    for kind, value in (("database", database), ("prefix", prefix)):
        if not is_identifier(value):
            raise LoadError(f"{kind} {value!r} must be lowercase letters, digits and _")
    clock = PhaseClock(log)
    moodle = MoodleSource(source, source_schema, prefix if source_prefix is None else source_prefix)
    # The source may be a read-only DuckDB file, which attaches nothing writable: its
    # rows stream as Arrow batches into a second, in-memory DuckDB holding the server.
    connection = connect(settings, read_only=False)
    loading = f"{database}__loading"
    warnings: list[str] = []
    try:
        present = moodle_tables_in(connection, database, prefix)
        if present and not replace:
            raise LoadError(
                f"{database} already holds {len(present)} Moodle tables ({prefix}{present[0]}, "
                "...); pass replace=True (--replace) to reload"
            )
        expected = {table: moodle.count(table) for table in MOODLE_TABLES}
        _create_tables(connection, loading, prefix)
        clock.lap("create tables")
        for table in sorted(MOODLE_TABLES, key=lambda name: -expected[name]):
            if expected[table]:
                _copy_table(moodle, connection, loading, prefix, table)
        clock.lap("copy rows")
        for table in MOODLE_TABLES:
            warnings += _add_indexes(connection, loading, prefix, table, strict)
        for warning in warnings:
            clock.say(f"warning: {warning}")
        clock.lap("indexes")
        loaded = {
            table: query(
                connection, f"SELECT count(*) FROM {MYSQL.qualified(loading, prefix, table)}"
            )[0][0]
            for table in MOODLE_TABLES
        }
        wrong = {t: (loaded[t], expected[t]) for t in loaded if loaded[t] != expected[t]}
        if wrong:
            raise LoadError(f"row counts differ from the source (loaded, source): {wrong}")
        query(
            connection,
            "ANALYZE TABLE "
            + ", ".join(MYSQL.qualified(loading, prefix, table) for table in MOODLE_TABLES),
        )
        # All or nothing: until here the Moodle tables in ``database`` are untouched.
        _swap_in(connection, loading, database, prefix, present)
        clock.lap("count, analyze, swap in")
    finally:
        moodle.close()
        with contextlib.suppress(duckdb.Error):
            execute(connection, f"DROP DATABASE IF EXISTS {quote(loading)}")
        connection.close()
    return MySQLLoadResult(database, prefix, loaded, clock.total(), warnings)

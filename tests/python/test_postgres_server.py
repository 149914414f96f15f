"""The private PostgreSQL server, the Moodle loader and the roles around it."""

from __future__ import annotations

import os
from contextlib import closing
from decimal import Decimal
from typing import TYPE_CHECKING

import duckdb
import psycopg2
import psycopg2.errors
import pytest

from moodle_analytics.moodle_db.local_server import port_is_free
from moodle_analytics.moodle_db.tables import MOODLE_KEYS, MOODLE_TABLES
from moodle_analytics.postgres.load import LoadError, load_moodle
from moodle_analytics.postgres.roles import (
    RoleError,
    create_bi_role,
    create_build_role,
    create_reader_role,
    grant_bi_access,
)
from moodle_analytics.postgres.schema import information_schema_type
from moodle_analytics.postgres.server import (
    PostgresError,
    PostgresServer,
    install_postgresql,
)
from server_cli import check_start_load_status_stop

if TYPE_CHECKING:
    from postgres_fixtures import LoadedMoodle

# Also registered here so this file runs on its own; pytest loads a plugin once.
pytest_plugins = ["postgres_fixtures"]
pytestmark = pytest.mark.postgres


def query(conn, statement: str, params=None) -> list[tuple]:
    with conn.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def source_rows(path, table: str, order: str = "id") -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f'SELECT * FROM public."mdl_{table}" ORDER BY {order}').fetchall()
    finally:
        con.close()


def expected_default(table: str, column: str, postgres_type: str, default: str | None):
    """The column default as PostgreSQL reports it for a Moodle install."""
    if column == "id":
        return f"nextval('mdl_{table}_id_seq'::regclass)"
    if default is None:
        return None
    if postgres_type.startswith("varchar"):
        return f"'{default}'::character varying"
    if postgres_type == "text":
        return f"'{default}'::text"
    if default.startswith("-"):
        return f"'{default}'::integer"
    return default


def assert_same_rows(loaded: LoadedMoodle, database: str) -> None:
    """Every value of every table equals the DuckDB source (NULL versus '' included)."""
    conn = loaded.server.connect(database)
    try:
        for table in MOODLE_TABLES:
            expected = source_rows(loaded.source.duckdb, table)
            actual = query(conn, f'SELECT * FROM public."mdl_{table}" ORDER BY id')
            assert actual == expected, f"mdl_{table} differs from the source"
    finally:
        conn.close()


# -- the loaded Moodle database ------------------------------------------------------
def test_row_counts_equal_source(pg_moodle: LoadedMoodle):
    source = duckdb.connect(str(pg_moodle.source.duckdb), read_only=True)
    with closing(source) as con, closing(pg_moodle.connect()) as conn:
        for table in MOODLE_TABLES:
            relation = f'public."mdl_{table}"'
            expected = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
            assert query(conn, f"SELECT count(*) FROM {relation}")[0][0] == expected, table
    assert pg_moodle.result.row_counts["logstore_standard_log"] > 10_000
    assert pg_moodle.result.warnings == []


def test_columns_are_moodles(pg_moodle: LoadedMoodle):
    with closing(pg_moodle.connect()) as conn:
        for table, columns in MOODLE_TABLES.items():
            rows = query(
                conn,
                """
                SELECT column_name,
                       CASE data_type
                           WHEN 'character varying'
                               THEN 'character varying(' || character_maximum_length || ')'
                           WHEN 'numeric'
                               THEN 'numeric(' || numeric_precision || ',' || numeric_scale || ')'
                           ELSE data_type
                       END,
                       is_nullable = 'NO',
                       column_default
                FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name = %s
                ORDER BY ordinal_position
                """,
                (f"mdl_{table}",),
            )
            expected = [
                (
                    name,
                    information_schema_type(postgres_type),
                    not_null,
                    expected_default(table, name, postgres_type, default),
                )
                for name, postgres_type, not_null, default in columns
            ]
            assert rows == expected, f"mdl_{table}"


def test_primary_keys_indexes_and_sequences(pg_moodle: LoadedMoodle):
    with closing(pg_moodle.connect()) as conn:
        for table, keys in MOODLE_KEYS.items():
            relation = f"mdl_{table}"
            pk = query(
                conn,
                """
                SELECT tc.constraint_name, kcu.column_name
                FROM information_schema.table_constraints tc
                JOIN information_schema.key_column_usage kcu
                    USING (constraint_schema, constraint_name)
                WHERE tc.table_schema = 'public' AND tc.table_name = %s
                  AND tc.constraint_type = 'PRIMARY KEY'
                """,
                (relation,),
            )
            assert pk == [(f"mdl_{keys.primary_key}", "id")], relation
            indexes = dict(
                query(
                    conn,
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = 'public' AND tablename = %s",
                    (relation,),
                )
            )
            expected = {f"mdl_{index.name}" for index in keys.indexes}
            assert set(indexes) == expected | {f"mdl_{keys.primary_key}"}, relation
            for index in keys.indexes:
                is_unique = indexes[f"mdl_{index.name}"].startswith("CREATE UNIQUE")
                assert is_unique == index.unique, index.name
            serial, last_value, max_id = query(
                conn,
                f"SELECT pg_get_serial_sequence('public.{relation}', 'id'), "
                f"(SELECT last_value FROM public.{relation}_id_seq), "
                f"(SELECT coalesce(max(id), 1) FROM public.{relation})",
            )[0]
            assert serial == f"public.{relation}_id_seq"
            assert last_value == max_id, relation
        log_indexes = {
            row[0]
            for row in query(
                conn,
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'mdl_logstore_standard_log'",
            )
        }
        for columns in (
            "timecreated",
            "courseid, anonymous, timecreated",
            "userid, contextlevel, contextinstanceid, crud, edulevel, timecreated",
        ):
            assert any(definition.endswith(f"btree ({columns})") for definition in log_indexes)


def test_new_rows_take_moodle_ids_and_defaults(pg_moodle: LoadedMoodle):
    conn = pg_moodle.connect()
    try:
        max_id = query(conn, "SELECT max(id) FROM public.mdl_user")[0][0]
        row = query(
            conn,
            "INSERT INTO public.mdl_user (username) VALUES ('newcomer') "
            "RETURNING id, auth, lang, timezone, deleted",
        )[0]
        assert row == (max_id + 1, "manual", "en", "99", 0)
    finally:
        conn.rollback()
        conn.close()


def test_values_equal_source(pg_moodle: LoadedMoodle):
    assert_same_rows(pg_moodle, pg_moodle.database)


@pytest.mark.parametrize("method, source_kind", [("copy", "duckdb"), ("duckdb", "parquet")])
def test_other_method_and_parquet_source(pg_moodle: LoadedMoodle, method, source_kind):
    database = f"moodle_{method}_{source_kind}"
    source = pg_moodle.source.duckdb if source_kind == "duckdb" else pg_moodle.source.parquet_dir
    dsn = pg_moodle.server.dsn()
    result = load_moodle(dsn, source, database=database, method=method, jobs=2)
    assert result.row_counts == pg_moodle.result.row_counts
    assert_same_rows(pg_moodle, database)
    with pytest.raises(LoadError, match="replace"):
        load_moodle(dsn, source, database=database, method=method)
    again = load_moodle(dsn, source, database=database, method=method, replace=True)
    assert again.row_counts == result.row_counts


def test_numeric_values_keep_their_scale(pg_moodle: LoadedMoodle):
    with closing(pg_moodle.connect()) as conn:
        grades = query(conn, "SELECT grademax FROM public.mdl_grade_items LIMIT 1")
    assert isinstance(grades[0][0], Decimal)
    assert grades[0][0].as_tuple().exponent == -5


# -- roles -----------------------------------------------------------------------------
def fails(conn, statement: str, error=psycopg2.errors.InsufficientPrivilege) -> None:
    with pytest.raises(error), conn.cursor() as cursor:
        cursor.execute(statement)
    conn.rollback()


def test_reader_role_reads_moodle_tables_and_writes_nothing(pg_moodle: LoadedMoodle):
    with closing(pg_moodle.connect()) as admin:
        password = create_reader_role(admin, "moodle_reader")
        with admin.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS public.not_moodle (x int)")
        admin.commit()
    with closing(pg_moodle.connect(user="moodle_reader", password=password)) as reader:
        for table in MOODLE_TABLES:
            assert query(reader, f'SELECT count(*) FROM public."mdl_{table}"')[0][0] >= 0
        reader.rollback()
        fails(reader, "SELECT * FROM public.not_moodle")
        # Read-only by default...
        fails(
            reader,
            "INSERT INTO public.mdl_user (username) VALUES ('x')",
            psycopg2.errors.ReadOnlySqlTransaction,
        )
        # ...and, with that switched off, privileges still forbid every write.
        reader.autocommit = True
        query(reader, "SET default_transaction_read_only = off; SELECT 1")
        reader.autocommit = False
        fails(reader, "INSERT INTO public.mdl_user (username) VALUES ('x')")
        fails(reader, "UPDATE public.mdl_user SET firstname = 'x'")
        fails(reader, "DELETE FROM public.mdl_logstore_standard_log")
        fails(reader, "TRUNCATE public.mdl_course")
        fails(reader, "CREATE TABLE public.mdl_extra (x int)")
        fails(reader, "CREATE SCHEMA reader_scratch")
        fails(reader, "ALTER TABLE public.mdl_user ADD COLUMN x int")


def test_build_role_creates_its_schemas_but_never_writes_moodle(pg_moodle: LoadedMoodle):
    with closing(pg_moodle.connect()) as admin:
        create_reader_role(admin, "moodle_reader")
        password = create_build_role(admin, "moodle_builder", reader_role="moodle_reader")
    with closing(pg_moodle.connect(user="moodle_builder", password=password)) as builder:
        with builder.cursor() as cursor:
            cursor.execute("CREATE SCHEMA IF NOT EXISTS analytics_build_test")
            cursor.execute(
                "CREATE TABLE analytics_build_test.users AS SELECT id FROM public.mdl_user"
            )
        builder.commit()
        fails(builder, "INSERT INTO public.mdl_user (username) VALUES ('x')")
        fails(builder, "UPDATE public.mdl_course SET fullname = 'x'")
        fails(builder, "CREATE TABLE public.mdl_extra (x int)")


def test_bi_role_reads_analytics_only(pg_moodle: LoadedMoodle):
    with closing(pg_moodle.connect()) as admin:
        password = create_bi_role(admin, "moodle_bi")
        with admin.cursor() as cursor:
            cursor.execute("CREATE SCHEMA IF NOT EXISTS analytics_marts")
            cursor.execute(
                "CREATE TABLE analytics_marts.learners AS SELECT id, username FROM public.mdl_user"
            )
        admin.commit()
        with pytest.raises(RoleError, match="Moodle"):
            grant_bi_access(admin, "moodle_bi", ["public"])
        with pytest.raises(RoleError, match="does not exist"):
            grant_bi_access(admin, "moodle_bi", ["no_such_schema"])
        admin.rollback()
        bi = pg_moodle.connect(user="moodle_bi", password=password)
        try:
            fails(bi, "SELECT * FROM public.mdl_user")
            fails(bi, "SELECT * FROM analytics_marts.learners")
            grant_bi_access(admin, "moodle_bi", ["analytics_marts"])
            assert query(bi, "SELECT count(*) FROM analytics_marts.learners")[0][0] > 0
            bi.rollback()
            # A table rebuilt later (as dbt does) is readable too.
            with admin.cursor() as cursor:
                cursor.execute("CREATE TABLE analytics_marts.courses AS SELECT id FROM mdl_course")
            admin.commit()
            assert query(bi, "SELECT count(*) FROM analytics_marts.courses")[0][0] > 0
            bi.rollback()
            fails(bi, "SELECT * FROM public.mdl_user")
            fails(bi, "SELECT * FROM public.mdl_logstore_standard_log")
            fails(
                bi,
                "INSERT INTO analytics_marts.courses VALUES (1)",
                psycopg2.errors.ReadOnlySqlTransaction,
            )
        finally:
            bi.close()


# -- the server itself -------------------------------------------------------------------
def test_server_is_private(pg_server):
    conn = pg_server.connect("postgres")
    try:
        settings = dict(
            query(
                conn,
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('listen_addresses', 'password_encryption', 'fsync', 'unix_socket_directories')",
            )
        )
    finally:
        conn.close()
    assert settings == {
        "listen_addresses": "127.0.0.1",
        "password_encryption": "scram-sha-256",
        "fsync": "off",
        "unix_socket_directories": str(pg_server.socket_dir),
    }
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        pg_server.connect("postgres", user=pg_server.superuser, password="wrong")
    env = pg_server.env()
    assert env["MOODLE_PG_PORT"] == str(pg_server.port)
    assert env["MOODLE_PG_PASSWORD"] == pg_server.password


def test_stop_removes_data_and_frees_port(pg_server_factory):
    server = pg_server_factory(database=None)
    root, port = server.root, server.port
    assert server.data_dir.is_dir()
    assert not port_is_free(port)
    server.stop()
    assert not root.exists()
    assert port_is_free(port)
    server.stop()  # twice is fine


def test_second_cluster_gets_another_port(pg_server, pg_server_factory):
    other = pg_server_factory(database=None)
    assert other.port != pg_server.port
    assert other.root != pg_server.root
    for server in (pg_server, other):
        conn = server.connect("postgres")
        assert query(conn, "SHOW port")[0][0] == str(server.port)
        conn.close()


def test_taken_port_is_reported(pg_server):
    with pytest.raises(PostgresError, match=f"port {pg_server.port} .* already in use"):
        PostgresServer(pg_server.port).start()


def test_cli_start_load_status_stop(tmp_path, pg_demo_source):
    def reader_reads_the_log(values: dict[str, str]) -> None:
        reader = psycopg2.connect(
            host=values["MOODLE_PG_HOST"],
            port=values["MOODLE_PG_PORT"],
            dbname=values["MOODLE_PG_DBNAME"],
            user=values["MOODLE_PG_READER_USER"],
            password=values["MOODLE_PG_READER_PASSWORD"],
        )
        assert query(reader, "SELECT count(*) FROM mdl_logstore_standard_log")[0][0] > 0
        reader.close()

    check_start_load_status_stop(
        "moodle_analytics.postgres.cli",
        "MOODLE_PG",
        tmp_path / "postgres.env",
        pg_demo_source.duckdb,
        reader_reads_the_log,
    )


def test_failed_install_is_explained(tmp_path, monkeypatch):
    fake_apt = tmp_path / "apt-get"
    fake_apt.write_text("#!/bin/sh\necho 'E: Unable to locate package postgresql' >&2\nexit 100\n")
    fake_apt.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(PostgresError, match=r"(?s)apt-get install -y postgresql.*Unable to locate"):
        install_postgresql()
    monkeypatch.setenv("MOODLE_PG_BINDIR", str(tmp_path))
    with pytest.raises(PostgresError, match="initdb is missing"):
        PostgresServer(install=False).start()

"""Database roles around the Moodle tables.

* reader: SELECT on the Moodle tables and nothing else, read-only by default; for
  builds that read the source from outside (DuckDB attaching PostgreSQL) and as a
  group role for a builder.
* builder: a reader that may also create schemas in the database, for a dbt build
  writing its analytics schemas next to the Moodle tables it must never change.
* BI reader: SELECT on the analytics schemas once they exist (grant_bi_access),
  never on the Moodle schema.

Each create_* function takes an open psycopg2 connection to the Moodle database,
run by a superuser or the owner of the objects, and commits. Roles are
cluster-wide; privileges are per database. Reloading the Moodle tables (load.py
with replace) drops their grants: call create_reader_role again afterwards.
create_site_roles makes all three as a site uses them (moodle-pg load, the
benchmark), the builder also in the database where duckdb_pg writes its marts.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn

from moodle_analytics.moodle_db.ddl import is_identifier
from moodle_analytics.moodle_db.logins import SiteLoginNames
from moodle_analytics.postgres.load import ensure_database
from moodle_analytics.postgres.schema import moodle_tables_in


class RoleError(RuntimeError):
    pass


def _ident(name: str) -> sql.Identifier:
    if not is_identifier(name):
        raise RoleError(f"{name!r} must be lowercase letters, digits and _")
    return sql.Identifier(name)


def _execute(cursor, statement: str, *names: sql.Composable) -> None:
    """Run a statement whose {} placeholders take the quoted names, in order."""
    cursor.execute(sql.SQL(statement).format(*names))


def _revoke_schema(cursor, schema: str, role: str) -> None:
    """Take back every privilege ``role`` holds on ``schema`` and its tables."""
    for statement in (
        "REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}",
        "REVOKE ALL ON SCHEMA {} FROM {}",
    ):
        _execute(cursor, statement, sql.Identifier(schema), _ident(role))


def _ensure_login_role(cursor, role: str, password: str | None) -> str:
    """Create the role or reset its password; returns the password."""
    password = password or secrets.token_urlsafe(24)
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    cursor.execute(
        sql.SQL(
            "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
            "NOBYPASSRLS INHERIT PASSWORD %s"
        ).format(sql.SQL(verb), _ident(role)),
        (password,),
    )
    database = sql.Identifier(cursor.connection.get_dsn_parameters()["dbname"])
    _execute(cursor, "GRANT CONNECT ON DATABASE {} TO {}", database, _ident(role))
    return password


def _set_read_only(cursor, role: str) -> None:
    # Belt and braces: privileges already forbid writes; this also stops temp tables.
    _execute(cursor, "ALTER ROLE {} SET default_transaction_read_only = on", _ident(role))


def create_reader_role(
    conn,
    role: str = "moodle_reader",
    password: str | None = None,
    *,
    schema: str = "public",
    prefix: str = "mdl_",
    read_only: bool = True,
) -> str:
    """LOGIN role with SELECT on the Moodle tables only; returns its password.

    Any other privilege the role held in ``schema`` is revoked, so running this again
    after a reload leaves exactly SELECT on the Moodle tables.
    """
    with conn.cursor() as cursor:
        password = _ensure_login_role(cursor, role, password)
        tables = [prefix + table for table in moodle_tables_in(cursor, schema, prefix)]
        if not tables:
            raise RoleError(f"no Moodle tables {schema}.{prefix}* in this database; load first")
        _revoke_schema(cursor, schema, role)
        _execute(cursor, "GRANT USAGE ON SCHEMA {} TO {}", sql.Identifier(schema), _ident(role))
        names = sql.SQL(", ").join(sql.Identifier(schema, table) for table in tables)
        _execute(cursor, "GRANT SELECT ON {} TO {}", names, _ident(role))
        if read_only:
            _set_read_only(cursor, role)
    conn.commit()
    return password


def create_build_role(
    conn,
    role: str = "moodle_builder",
    password: str | None = None,
    *,
    reader_role: str = "moodle_reader",
) -> str:
    """LOGIN role that reads the Moodle tables through ``reader_role`` and may create
    schemas (and so own the analytics schemas dbt creates), but cannot write the
    Moodle tables. Create the reader role first. Returns the password."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (reader_role,))
        if cursor.fetchone() is None:
            raise RoleError(f"reader role {reader_role!r} does not exist; create it first")
        password = _ensure_login_role(cursor, role, password)
        database = sql.Identifier(conn.get_dsn_parameters()["dbname"])
        _execute(cursor, "GRANT CREATE, TEMPORARY ON DATABASE {} TO {}", database, _ident(role))
        _execute(cursor, "GRANT {} TO {}", _ident(reader_role), _ident(role))
    conn.commit()
    return password


def create_bi_role(
    conn,
    role: str = "moodle_bi",
    password: str | None = None,
    *,
    moodle_schema: str = "public",
    analytics_schemas: Iterable[str] = (),
) -> str:
    """LOGIN role for dashboards: no access to the Moodle schema; SELECT on the given
    analytics schemas (or later, through grant_bi_access). Returns the password.

    The Moodle tables grant nothing to PUBLIC; load.py (private_schema) also revokes
    PUBLIC's USAGE on their schema, so this role cannot even list them.
    """
    with conn.cursor() as cursor:
        password = _ensure_login_role(cursor, role, password)
        _revoke_schema(cursor, moodle_schema, role)
        _set_read_only(cursor, role)
    conn.commit()
    schemas = list(analytics_schemas)
    if schemas:
        grant_bi_access(conn, role, schemas, moodle_schema=moodle_schema)
    return password


def grant_bi_access(
    conn,
    role: str,
    schemas: Iterable[str],
    *,
    moodle_schema: str = "public",
    owner: str | None = None,
) -> None:
    """SELECT on every table and view in ``schemas``, now and when rebuilt.

    dbt replaces its tables on every run, which drops their grants; default
    privileges for the schema's owner (or ``owner``, the role dbt builds as) give the
    new tables the same SELECT.
    """
    schemas = list(schemas)
    if moodle_schema in schemas:
        raise RoleError(f"{moodle_schema} holds the Moodle tables; the BI role must not read it")
    with conn.cursor() as cursor:
        for schema in schemas:
            cursor.execute(
                "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s",
                (schema,),
            )
            row = cursor.fetchone()
            if row is None:
                raise RoleError(f"schema {schema!r} does not exist yet; build the marts first")
            target, reader = sql.Identifier(schema), _ident(role)
            _execute(cursor, "GRANT USAGE ON SCHEMA {} TO {}", target, reader)
            _execute(cursor, "GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}", target, reader)
            _execute(
                cursor,
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}",
                sql.Identifier(owner or row[0]),
                target,
                reader,
            )
    conn.commit()


@dataclass(frozen=True)
class SiteRoles(SiteLoginNames):
    """The names of a site's three logins, and the database of the duckdb_pg marts."""

    prefixes = ("MOODLE_PG", "ANALYTICS_PG")


def create_site_roles(
    dsn: str,
    database: str,
    roles: SiteRoles = SiteRoles(),
    *,
    schema: str = "public",
    prefix: str = "mdl_",
    passwords: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """The reader, builder and BI roles on the Moodle tables of ``database``; the builder
    may also create schemas in ``roles.analytics_database`` (created if missing), where
    the duckdb_pg target writes its marts. Returns role -> password; ``passwords``
    keeps the ones a site already uses."""
    passwords = passwords or {}
    conn = psycopg2.connect(make_dsn(dsn, dbname=database))
    try:
        made = {
            roles.reader: create_reader_role(
                conn, roles.reader, passwords.get(roles.reader), schema=schema, prefix=prefix
            ),
            roles.builder: create_build_role(
                conn, roles.builder, passwords.get(roles.builder), reader_role=roles.reader
            ),
            roles.bi: create_bi_role(conn, roles.bi, passwords.get(roles.bi), moodle_schema=schema),
        }
    finally:
        conn.close()
    ensure_database(dsn, roles.analytics_database)
    conn = psycopg2.connect(make_dsn(dsn, dbname=roles.analytics_database))
    try:
        create_build_role(conn, roles.builder, made[roles.builder], reader_role=roles.reader)
    finally:
        conn.close()
    return made

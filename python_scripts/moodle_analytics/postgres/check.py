"""Preflight checks of the PostgreSQL connection settings dbt will use.

dbt reports a bad connection as the driver's message ("connection refused",
"password authentication failed"), which does not say which setting is wrong.
These checks connect the way the targets of profiles.yml do and turn every failure
into a message naming the environment variable to fix:

* ``postgres`` target: MOODLE_PG_* must reach the Moodle database as a role that
  can read the Moodle tables and create the analytics schemas beside them.
* ``duckdb_pg`` target: MOODLE_PG_* reads the Moodle tables (a read-only role is
  enough, a replica too); ANALYTICS_PG_* (each falling back to its MOODLE_PG_*
  twin) is where the marts are written, so it must be able to create schemas.

``moodle-pg check`` runs them from the shell; the duckdb_pg target runs them itself
(duckdb_plugin.py) before DuckDB attaches anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import psycopg2
from psycopg2.extensions import make_dsn

from moodle_analytics.moodle_db.logins import (
    CONNECT_TIMEOUT_SECONDS,
    Login,
    connect_failure_hint,
    duckdb_secret_sql,
    port_number,
)
from moodle_analytics.moodle_db.tables import moodle_tables_missing, optional_tables_line
from moodle_analytics.postgres.schema import moodle_tables_in

SOURCE_PREFIX = "MOODLE_PG"
OUTPUT_PREFIX = "ANALYTICS_PG"
DEFAULT_DBNAME = "moodle"
# The settings of one login, each read from <prefix>_<FIELD>.
FIELDS = ("host", "port", "user", "password", "dbname")


class ConnectionSettingsError(RuntimeError):
    """A connection setting is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class ConnectionSettings(Login):
    """One PostgreSQL login, with the environment variable each value came from."""

    error: ClassVar[type[Exception]] = ConnectionSettingsError
    source_prefix = SOURCE_PREFIX

    def dsn(self) -> str:
        login = {field: getattr(self, field) for field in FIELDS}
        return make_dsn(**login, connect_timeout=CONNECT_TIMEOUT_SECONDS)

    def describe(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"

    def secret_sql(self, name: str) -> str:
        """CREATE SECRET for this login in DuckDB (the duckdb_pg target)."""
        return duckdb_secret_sql(name, "postgres", self)

    @classmethod
    def from_values(cls, values, variables, prefix, fallback_prefix, environ) -> ConnectionSettings:
        """<prefix>_HOST, _PORT, _USER, _PASSWORD, _DBNAME (default moodle)."""
        missing = [variables[field] for field in ("host", "port", "user") if not values[field]]
        if missing:
            also = f" (or {fallback_prefix}_*)" if fallback_prefix else ""
            raise ConnectionSettingsError(
                f"{', '.join(missing)} not set{also}: export the PostgreSQL server's "
                "host, port and login (moodle-pg start writes them to data/postgres.env)"
            )
        port = port_number(values["port"] or "", variables["port"], ConnectionSettingsError)
        return cls(
            host=values["host"] or "",
            port=port,
            user=values["user"] or "",
            password=values["password"],
            dbname=values["dbname"] or DEFAULT_DBNAME,
            variables=variables,
        )


def explain_connect_error(settings: ConnectionSettings, error: Exception) -> str:
    """The driver's message, led by the variable that most likely needs fixing."""
    text = str(error).strip()
    lowered = text.lower()
    user, dbname, host = (settings.var(field) for field in ("user", "dbname", "host"))
    if "does not exist" in lowered and "database" in lowered:
        hint = f"{dbname}={settings.dbname!r}: no such database on {settings.host}"
    elif "role" in lowered and "does not exist" in lowered:
        hint = f"{user}={settings.user!r}: no such role on the server"
    elif "not permitted to log in" in lowered or "permission denied for database" in lowered:
        hint = (
            f"{user}={settings.user!r} may not connect to {settings.dbname!r}: "
            "grant it LOGIN and CONNECT, or use another role"
        )
    elif "pg_hba.conf" in lowered:
        hint = (
            f"the server's pg_hba.conf has no rule for {settings.user!r} from this machine to "
            f"{settings.dbname!r}: check {user}, {dbname} and {host}, or ask its administrator"
        )
    else:
        hint = connect_failure_hint(settings, text, "moodle-pg status")
    return f"{hint}\n  PostgreSQL said: {text}"


def connect(settings: ConnectionSettings):
    """An open psycopg2 connection, or ConnectionSettingsError naming the variable."""
    try:
        return psycopg2.connect(settings.dsn())
    except psycopg2.Error as error:
        raise ConnectionSettingsError(explain_connect_error(settings, error)) from None


def _scalar(conn, statement: str, params: tuple = ()):
    with conn.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def check_reads_moodle(
    conn, settings: ConnectionSettings, schema: str = "public", prefix: str = "mdl_"
) -> tuple[int, list[str]]:
    """The login sees and may SELECT every Moodle table a build needs; returns how many
    Moodle tables it reads and the optional ones missing (a warning, not an error)."""
    with conn.cursor() as cursor:
        present = moodle_tables_in(cursor, schema, prefix)
    if not present:
        raise ConnectionSettingsError(
            f"no Moodle tables {schema}.{prefix}* visible to {settings.var('user')}="
            f"{settings.user!r} in {settings.var('dbname')}={settings.dbname!r}: check "
            f"{settings.var('dbname')}, that this role has USAGE on schema {schema}, and the "
            "dbt vars moodle_schema / moodle_table_prefix"
        )
    required, missing = moodle_tables_missing(present, prefix)
    if required:
        raise ConnectionSettingsError(
            f"{len(required)} Moodle tables every build needs are missing in "
            f"{settings.dbname}.{schema} ({', '.join(required[:5])}): is "
            f"{settings.var('dbname')} a Moodle database?"
        )
    unreadable = [
        prefix + table
        for table in present
        if not _scalar(
            conn, "select has_table_privilege(%s, 'SELECT')", (f'"{schema}"."{prefix}{table}"',)
        )
    ]
    if unreadable:
        raise ConnectionSettingsError(
            f"{settings.var('user')}={settings.user!r} may not SELECT {len(unreadable)} Moodle "
            f"tables ({', '.join(unreadable[:5])}, ...): grant it SELECT or use the reader "
            "role (postgres.roles.create_reader_role)"
        )
    conn.rollback()
    return len(present), missing


def check_writes_schemas(conn, settings: ConnectionSettings, what: str) -> None:
    """The login may create the analytics schemas in its database."""
    user = f"{settings.var('user')}={settings.user!r}"
    if _scalar(conn, "select pg_is_in_recovery()"):
        raise ConnectionSettingsError(
            f"{settings.var('host')}={settings.host!r} is a read-only replica, but {what} "
            "must be written: point it at a writable server (the duckdb_pg target reads a "
            "replica and writes the marts elsewhere, ANALYTICS_PG_*)"
        )
    if _scalar(conn, "show default_transaction_read_only") == "on":
        raise ConnectionSettingsError(
            f"{user} is a read-only role, but {what} must be written: use a role that may "
            "create schemas (postgres.roles.create_build_role)"
        )
    if not _scalar(conn, "select has_database_privilege(current_database(), 'CREATE')"):
        raise ConnectionSettingsError(
            f"{user} may not create schemas in {settings.var('dbname')}={settings.dbname!r}, "
            f"where {what} go: grant it CREATE on the database or use another role"
        )
    conn.rollback()


def check_target(
    target: str,
    *,
    schema: str = "public",
    prefix: str = "mdl_",
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Check the settings of a profiles.yml target; one line per connection checked."""
    if target == "postgres":
        settings = ConnectionSettings.from_env(SOURCE_PREFIX, environ=environ)
        conn = connect(settings)
        try:
            tables, optional = check_reads_moodle(conn, settings, schema, prefix)
            check_writes_schemas(conn, settings, "the analytics schemas")
        finally:
            conn.close()
        lines = [
            f"{settings.describe()}: reads {tables} Moodle tables in {schema} ({prefix}*), "
            "may create the analytics schemas"
        ]
        return lines + ([optional_tables_line(optional)] if optional else [])
    if target == "duckdb_pg":
        lines = check_duckdb_pg_connections(environ)
        source = ConnectionSettings.from_env(SOURCE_PREFIX, environ=environ)
        conn = connect(source)
        try:
            tables, optional = check_reads_moodle(conn, source, schema, prefix)
        finally:
            conn.close()
        lines[0] += f", {tables} Moodle tables in {schema} ({prefix}*)"
        return lines + ([optional_tables_line(optional)] if optional else [])
    raise ConnectionSettingsError(f"unknown target {target!r}: postgres or duckdb_pg")


def check_duckdb_pg_connections(environ: Mapping[str, str] | None = None) -> list[str]:
    """Both logins of the duckdb_pg target connect; the output one may create schemas."""
    source = ConnectionSettings.from_env(SOURCE_PREFIX, environ=environ)
    output = ConnectionSettings.from_env(OUTPUT_PREFIX, SOURCE_PREFIX, environ=environ)
    connect(source).close()
    conn = connect(output)
    try:
        check_writes_schemas(conn, output, "the marts")
    finally:
        conn.close()
    return [
        f"source {source.describe()}: connects (attached read-only)",
        f"output {output.describe()}: may create the analytics schemas",
    ]

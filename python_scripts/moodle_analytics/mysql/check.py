"""MySQL/MariaDB logins from environment variables, reached through DuckDB, and checked.

The duckdb_mysql target reads two logins: MOODLE_MYSQL_* reads the Moodle tables
(SELECT on the Moodle database is enough, a replica too) and ANALYTICS_MYSQL_*
(each falling back to its MOODLE_MYSQL_* twin) writes the marts. Every
connection goes through DuckDB's mysql extension, as dbt's does, so a check
that passes here passes there. A failure becomes one line naming the variable
to fix: a wrong password, database or host, a server that is not there, a
missing privilege, missing tables.

On MySQL a database is what PostgreSQL calls a schema: the Moodle tables are
<MOODLE_MYSQL_DBNAME>.<prefix><table>, and the marts, risk tables and lists all
go to one database, ANALYTICS_MYSQL_DBNAME (default analytics).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import ClassVar

import duckdb

from moodle_analytics.moodle_db.extensions import load_packaged_extension
from moodle_analytics.moodle_db.logins import (
    Login,
    connect_failure_hint,
    duckdb_literal,
    duckdb_secret_sql,
    port_number,
    read_login,
)
from moodle_analytics.moodle_db.tables import MOODLE_TABLES, moodle_tables_missing

SOURCE_PREFIX = "MOODLE_MYSQL"
OUTPUT_PREFIX = "ANALYTICS_MYSQL"
DEFAULT_DBNAME = "moodle"
DEFAULT_OUTPUT_DBNAME = "analytics"
DEFAULT_PORT = 3306
# The settings of one login, each read from <prefix>_<FIELD>.
FIELDS = ("host", "port", "user", "password", "dbname", "socket")
# How DuckDB reads MySQL, for every connection (SET GLOBAL: dbt works on cursors).
# Filters, aggregates and ORDER BY stay in DuckDB: MySQL's utf8mb4_unicode_ci
# comparisons ignore case, accents and trailing spaces ('a ' = 'A'), and the models
# must see the rows as DuckDB compares them. TINYINT(1) stays a number: Moodle's
# one-digit columns are not all flags (course_modules.completion 2 is automatic,
# course_modules_completion.completionstate runs 0 to 3).
SESSION_SETTINGS = {
    "mysql_tinyint1_as_boolean": "false",
    "mysql_bit1_as_boolean": "false",
    "mysql_experimental_filter_pushdown": "false",
    "mysql_aggregate_pushdown_enabled": "false",
    "mysql_order_pushdown_enabled": "false",
}


class MySQLSettingsError(RuntimeError):
    """A connection setting is missing or wrong; the message names the variable."""


literal = duckdb_literal


def mysql_literal(value: str) -> str:
    """A MySQL string literal (MySQL reads a backslash as an escape)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def quote(name: str) -> str:
    """A MySQL identifier in backquotes."""
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class MySQLSettings(Login):
    """One MySQL/MariaDB login, with the environment variable each value came from."""

    error: ClassVar[type[Exception]] = MySQLSettingsError
    fields = FIELDS
    source_prefix = SOURCE_PREFIX
    socket: str | None = None

    def describe(self) -> str:
        where = self.socket if self.socket else f"{self.host}:{self.port}"
        return f"{self.user}@{where}/{self.dbname}"

    def secret_sql(self, name: str) -> str:
        """CREATE SECRET for this login (temporary: it lives with the DuckDB connection)."""
        return duckdb_secret_sql(name, "mysql", self, {"SOCKET": self.socket})

    @classmethod
    def from_values(cls, values, variables, prefix, fallback_prefix, environ) -> MySQLSettings:
        """<prefix>_HOST, _PORT (3306), _USER, _PASSWORD, _DBNAME and _SOCKET (a unix
        socket, used instead of host and port when set); DBNAME never falls back: the
        source's is Moodle's database (default moodle), an output login's the analytics
        database (default analytics)."""
        if fallback_prefix:
            own, _ = read_login(prefix, ("dbname",), environ=environ)
            values["dbname"] = own["dbname"] or DEFAULT_OUTPUT_DBNAME
            variables["dbname"] = f"{prefix}_DBNAME"
        also = f" (or {fallback_prefix}_*)" if fallback_prefix else ""
        missing = [variables["user"]] if not values["user"] else []
        if not values["host"] and not values["socket"]:
            missing.insert(0, f"{variables['host']} (or {variables['socket']})")
        if missing:
            raise MySQLSettingsError(
                f"{', '.join(missing)} not set{also}: export the MySQL/MariaDB server's host "
                "and login (moodle-mysql start writes them to data/mysql.env)"
            )
        # With a socket, host and port are not used (DuckDB's driver would fall back to
        # TCP on them when the socket fails).
        port_text = str(DEFAULT_PORT) if values["socket"] else values["port"] or str(DEFAULT_PORT)
        port = port_number(port_text, variables["port"], MySQLSettingsError)
        return cls(
            # A socket is reached through "localhost", as MySQL's clients do.
            host="localhost" if values["socket"] else values["host"] or "",
            port=port,
            user=values["user"] or "",
            password=values["password"],
            dbname=DEFAULT_DBNAME if values["dbname"] is None else values["dbname"],
            socket=values["socket"],
            variables=variables,
        )


def explain_connect_error(settings: MySQLSettings, error: Exception) -> str:
    """The server's message (never the password), led by the variable to fix."""
    # DuckDB quotes the connection parameters, password included: keep only the reason.
    text = re.sub(r'with parameters ".*?": ', "", str(error).strip(), flags=re.S)
    lowered = text.lower()
    user, dbname, socket = (settings.var(field) for field in ("user", "dbname", "socket"))
    own_failures = (
        (
            "through socket" in lowered or (settings.socket and "can't connect" in lowered),
            f"no server answers on the socket {socket}={settings.socket!r}",
        ),
        (
            "access denied" in lowered and "to database" in lowered,
            f"{user}={settings.user!r} may not use the database {dbname}={settings.dbname!r}: "
            "grant it SELECT there, or check the name",
        ),
        (
            "unknown database" in lowered,
            f"{dbname}={settings.dbname!r}: no such database on {settings.describe()}",
        ),
    )
    hint = next((hint for matched, hint in own_failures if matched), None)
    hint = hint or connect_failure_hint(settings, text, "moodle-mysql status")
    return f"{hint} (MySQL said: {text})"


def new_duckdb() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the mysql extension loaded and set as the project reads."""
    connection = duckdb.connect()
    configure(connection)
    return connection


def configure(connection: duckdb.DuckDBPyConnection) -> None:
    """Load the packaged mysql extension and apply SESSION_SETTINGS."""
    load_packaged_extension(connection, "mysql")
    connection.execute("SET enable_progress_bar = false")
    for name, value in SESSION_SETTINGS.items():
        connection.execute(f"SET GLOBAL {name} = {value}")


def attach(
    connection: duckdb.DuckDBPyConnection,
    settings: MySQLSettings,
    alias: str,
    *,
    read_only: bool = True,
) -> None:
    """Attach the login's server as ``alias``, or MySQLSettingsError naming the variable."""
    connection.execute(settings.secret_sql(f"{alias}_login"))
    mode = ", READ_ONLY" if read_only else ""
    try:
        connection.execute(f"ATTACH '' AS {alias} (TYPE mysql, SECRET {alias}_login{mode})")
    except duckdb.Error as error:
        raise MySQLSettingsError(explain_connect_error(settings, error)) from None


def connect(settings: MySQLSettings, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the login's server attached as ``mysql``."""
    connection = new_duckdb()
    try:
        attach(connection, settings, "mysql", read_only=read_only)
    except BaseException:
        connection.close()
        raise
    return connection


def query(connection: duckdb.DuckDBPyConnection, statement: str, alias: str = "mysql") -> list:
    """Rows of a statement run by MySQL itself (mysql_query)."""
    return connection.execute(
        f"SELECT * FROM mysql_query({literal(alias)}, {literal(statement)})"
    ).fetchall()


def execute(connection: duckdb.DuckDBPyConnection, statement: str, alias: str = "mysql") -> None:
    """Run a statement in MySQL itself (mysql_execute; the attachment must be writable)."""
    connection.execute(f"CALL mysql_execute({literal(alias)}, {literal(statement)})")


def moodle_tables_in(connection, database: str, prefix: str, alias: str = "mysql") -> list[str]:
    """The tables of MOODLE_TABLES (without prefix) this login sees in ``database``."""
    rows = query(
        connection,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        + mysql_literal(database),
        alias,
    )
    names = {row[0] for row in rows}
    return [table for table in MOODLE_TABLES if prefix + table in names]


def check_reads_moodle(
    connection, settings: MySQLSettings, prefix: str = "mdl_"
) -> tuple[int, list[str]]:
    """The login sees and may SELECT every Moodle table a build needs; returns how many
    Moodle tables it reads and the optional ones missing (a warning, not an error)."""
    who = f"{settings.var('user')}={settings.user!r}"
    database = settings.dbname
    present = moodle_tables_in(connection, database, prefix)
    if not present:
        raise MySQLSettingsError(
            f"no Moodle tables {database}.{prefix}* visible to {who}: check "
            f"{settings.var('dbname')}, that the login has SELECT on {database}.*, and the "
            "dbt var moodle_table_prefix"
        )
    required, missing = moodle_tables_missing(present, prefix)
    if required:
        raise MySQLSettingsError(
            f"{len(required)} Moodle tables every build needs are missing in {database} or not "
            f"readable by {who} ({', '.join(required[:5])}): is {settings.var('dbname')} "
            f"the Moodle database? Grant the login SELECT on {database}.*"
        )
    unreadable = []
    for table in present:
        try:
            query(connection, f"SELECT 1 FROM {quote(database)}.{quote(prefix + table)} LIMIT 0")
        except duckdb.Error:
            unreadable.append(prefix + table)
    if unreadable:
        raise MySQLSettingsError(
            f"{who} may not SELECT {len(unreadable)} Moodle tables ({', '.join(unreadable[:5])}):"
            f" grant it SELECT on {database}.*"
        )
    return len(present), missing


def grant_pattern_matches(pattern: str, name: str) -> bool:
    """A database name against a grant's pattern: MySQL's LIKE (``_`` one character,
    ``%`` any, ``\\_`` a real underscore)."""
    regex, index = "", 0
    while index < len(pattern):
        character = pattern[index]
        if character == "\\" and index + 1 < len(pattern):
            regex += re.escape(pattern[index + 1])
            index += 2
            continue
        regex += {"_": ".", "%": ".*"}.get(character, re.escape(character))
        index += 1
    return re.fullmatch(regex, name) is not None


def _privileges_on(connection, database: str) -> dict[str, bool]:
    """privilege -> grantable, held by the current login on ``database`` (global or
    database grants, its roles' included)."""
    held: dict[str, bool] = {}
    for privilege, grantable in query(
        connection, "SELECT privilege_type, is_grantable FROM information_schema.user_privileges"
    ):
        held[privilege] = held.get(privilege, False) or grantable == "YES"
    for schema, privilege, grantable in query(
        connection,
        "SELECT table_schema, privilege_type, is_grantable "
        "FROM information_schema.schema_privileges",
    ):
        if grant_pattern_matches(schema, database):
            held[privilege] = held.get(privilege, False) or grantable == "YES"
    return held


def connect_output(settings: MySQLSettings) -> duckdb.DuckDBPyConnection:
    """The output login attached writable as ``mysql``, in no database: its analytics
    database may not exist yet."""
    return connect(replace(settings, dbname=""), read_only=False)


def check_writes_database(
    connection, settings: MySQLSettings, bi_roles: Iterable[str] = ()
) -> None:
    """The output login may create and fill its analytics database and grant SELECT on
    it to the BI roles; the server is not a read-only replica. ``connection`` is
    connect_output's."""
    who = f"{settings.var('user')}={settings.user!r}"
    database = settings.dbname
    if query(connection, "SELECT @@read_only")[0][0]:
        raise MySQLSettingsError(
            f"{settings.var('host')}={settings.host!r} is read-only (a replica), but the marts "
            f"must be written there: point {settings.var('host')} at a writable server"
        )
    held = _privileges_on(connection, database)
    lacking = [p for p in ("CREATE", "DROP", "INSERT", "SELECT", "ALTER") if p not in held]
    if lacking:
        raise MySQLSettingsError(
            f"{who} lacks {', '.join(lacking)} on {settings.var('dbname')}={database!r}, where "
            f"the marts go: GRANT ALL ON `{database}`.* TO the login, or use another login"
        )
    bi_roles = list(bi_roles)
    if bi_roles and not held.get("SELECT"):
        raise MySQLSettingsError(
            f"{who} may not grant SELECT on {database} to MOODLE_MYSQL_BI_ROLES "
            f"({', '.join(bi_roles)}): grant the login SELECT on `{database}`.* WITH GRANT OPTION"
        )

"""A database login read from environment variables, as every engine's target reads it.

A dbt target reads <PREFIX>_HOST, _PORT, _USER, ... (MOODLE_PG_*, MOODLE_MYSQL_*);
an output login may fall back to the source's twin (ANALYTICS_PG_HOST unset or
empty: MOODLE_PG_HOST). Each value remembers the variable it came from, so an
error can name the one to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Self


@dataclass(frozen=True)
class Login:
    """One database login, with the environment variable each value came from (an
    engine's subclass adds its own settings, the error its checks raise, from_env)."""

    error: ClassVar[type[Exception]] = RuntimeError
    # The settings read, each from <prefix>_<FIELD>, and the source login's prefix.
    fields: ClassVar[tuple[str, ...]] = ("host", "port", "user", "password", "dbname")
    source_prefix: ClassVar[str] = ""

    host: str
    port: int
    user: str
    password: str | None
    dbname: str
    variables: Mapping[str, str]

    def var(self, field: str) -> str:
        """The environment variable the login's ``field`` came from (or would)."""
        return self.variables[field]

    @classmethod
    def from_env(
        cls,
        prefix: str | None = None,
        fallback_prefix: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        """The login <prefix>_* holds (default: the source login's prefix); a variable
        unset or empty falls back to <fallback_prefix>_<same>. ``error`` if one that is
        needed is missing or wrong."""
        prefix = prefix or cls.source_prefix
        values, variables = read_login(prefix, cls.fields, fallback_prefix, environ)
        return cls.from_values(values, variables, prefix, fallback_prefix, environ)

    @classmethod
    def from_values(
        cls,
        values: dict[str, str | None],
        variables: dict[str, str],
        prefix: str,
        fallback_prefix: str | None,
        environ: Mapping[str, str] | None,
    ) -> Self:
        """The login of read_login's values (the engine's defaults and checks)."""
        raise NotImplementedError


def read_login(
    prefix: str,
    fields: Iterable[str],
    fallback_prefix: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, str | None], dict[str, str]]:
    """(field -> value or None, field -> the variable that holds it, or would)."""
    environ = os.environ if environ is None else environ
    values: dict[str, str | None] = {}
    variables: dict[str, str] = {}
    for field in fields:
        names = [f"{prefix}_{field.upper()}"]
        if fallback_prefix:
            names.append(f"{fallback_prefix}_{field.upper()}")
        variables[field], values[field] = names[0], None
        for name in names:
            if environ.get(name):
                values[field], variables[field] = environ[name], name
                break
    return values, variables


SECRET_NAME = re.compile(r"[a-z_][a-z0-9_]*")
CONNECT_TIMEOUT_SECONDS = 10
# Failures every engine's driver reports, told by the words of its message (any of the
# groups, every word of a group), the first that matches winning: PostgreSQL's and
# MySQL's wordings side by side.
CONNECT_FAILURES = (
    (
        "unknown host",
        (
            ("could not translate host name",),
            ("name or service not known",),
            ("unknown server host",),
            ("unknown mysql server host",),
        ),
    ),
    ("refused", (("connection refused",), ("can't connect",))),
    ("timeout", (("timeout expired",), ("timed out",), ("lost connection",))),
    (
        "no password",
        (("no password supplied",), ("fe_sendauth",), ("access denied", "using password: no")),
    ),
    ("wrong password", (("authentication failed",), ("access denied",))),
)


def connect_failure_hint(login, message: str, status_command: str) -> str:
    """What to fix after a failure of CONNECT_FAILURES (or any other), naming the
    variables of the login (host, port, user, password, dbname; login.var(field))."""
    lowered = message.lower()
    host, port, user, password, dbname = (
        login.var(field) for field in ("host", "port", "user", "password", "dbname")
    )
    where = f"{login.host}:{login.port}"
    hints = {
        "unknown host": f"{host}={login.host!r} is not a host name this machine can resolve",
        "refused": f"nothing accepts connections on {where}: check {host} and {port} "
        f"(is the server running? {status_command})",
        "timeout": f"no answer from {where} within {CONNECT_TIMEOUT_SECONDS} s: check {host} "
        f"and {port} (or a firewall)",
        "no password": f"the server wants a password for {login.user!r}: set {password}",
        "wrong password": f"the server refused {user}={login.user!r} with the password in "
        f"{password}: check {user} and {password}",
    }
    for kind, groups in CONNECT_FAILURES:
        if any(all(word in lowered for word in group) for group in groups):
            return hints[kind]
    return (
        f"cannot connect as {login.describe()} (from {host}, {port}, {user}, {password}, {dbname})"
    )


def duckdb_literal(value: str) -> str:
    """A DuckDB string literal (DuckDB reads backslashes as they are)."""
    return "'" + value.replace("'", "''") + "'"


def duckdb_secret_sql(
    name: str, secret_type: str, login, extra: Mapping[str, str | None] | None = None
) -> str:
    """CREATE SECRET ``name`` of ``secret_type`` (postgres, mysql) for a login with host,
    port, dbname, user and password, plus ``extra`` options; a None is left out. Temporary: it
    lives with the DuckDB connection, never on disk."""
    if not SECRET_NAME.fullmatch(name):
        raise ValueError(f"secret name {name!r} must be lowercase letters, digits and _")
    options = {
        "HOST": login.host,
        "PORT": login.port,
        "DATABASE": login.dbname,
        "USER": login.user,
        "PASSWORD": login.password,
        **(extra or {}),
    }
    written = [f"TYPE {secret_type}"] + [
        f"{option} {value if isinstance(value, int) else duckdb_literal(value)}"
        for option, value in options.items()
        if value is not None
    ]
    return f"CREATE OR REPLACE SECRET {name} ({', '.join(written)})"


def port_number(text: str, variable: str, error: type[Exception]) -> int:
    """The port ``variable`` holds, or ``error`` naming it when the text is not a port
    number (1-65535)."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise error(f"{variable}={text!r} is not a port number (1-65535)")
    return int(text)


@dataclass(frozen=True)
class SiteLoginNames:
    """The names of a site's three logins (reader of the Moodle tables, builder of the
    marts, BI reader of the marts) and the database of the marts. An engine's subclass
    names its variables' prefixes (source, output)."""

    prefixes: ClassVar[tuple[str, str]] = ("", "")
    reader: str = "moodle_reader"
    builder: str = "moodle_builder"
    bi: str = "moodle_bi"
    analytics_database: str = "analytics"

    def env(self, passwords: Mapping[str, str]) -> dict[str, str]:
        """The logins as env file lines record them; dbt grants the marts to the BI login."""
        source, output = self.prefixes
        values = {}
        for kind, login in (("READER", self.reader), ("BUILDER", self.builder), ("BI", self.bi)):
            values[f"{source}_{kind}_USER"] = login
            values[f"{source}_{kind}_PASSWORD"] = passwords[login]
        values[f"{source}_BI_ROLES"] = self.bi
        values[f"{output}_DBNAME"] = self.analytics_database
        return values

"""MySQL/MariaDB logins around the Moodle tables, as a site would set them up.

* reader: SELECT on the Moodle database and nothing else; the duckdb_mysql target
  reads the Moodle tables as it (a replica's login will do as well).
* builder: creates and fills the analytics database, where the duckdb_mysql
  target writes every mart, risk table and list, and may grant SELECT on it; no
  access to the Moodle tables.
* BI reader: SELECT on the analytics database, granted by the duckdb_mysql target
  when it is named in MOODLE_MYSQL_BI_ROLES; nothing on the Moodle database.

Accounts are 'name'@'%' (any host: a private server listens on 127.0.0.1 only).
The functions take a DuckDB connection with the server attached writable as
``mysql`` (check.connect), logged in as an administrator.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from moodle_analytics.moodle_db.ddl import MYSQL, is_identifier
from moodle_analytics.moodle_db.logins import SiteLoginNames
from moodle_analytics.mysql.check import execute, mysql_literal, query

quote = MYSQL.quote


class RoleError(RuntimeError):
    pass


def account(name: str) -> str:
    """'name'@'host' of a login given as name or name@host (host defaults to %)."""
    user, _, host = name.partition("@")
    if not user:
        raise RoleError(f"{name!r} is not a MySQL account (name or name@host)")
    return f"{mysql_literal(user)}@{mysql_literal(host or '%')}"


def ensure_login(connection, name: str, password: str | None) -> str:
    """Create the login or reset its password, with no privileges kept; its password."""
    if not is_identifier(name):
        raise RoleError(f"{name!r} must be lowercase letters, digits and _")
    password = password or secrets.token_urlsafe(24)
    execute(connection, f"CREATE USER IF NOT EXISTS {account(name)}")
    execute(connection, f"ALTER USER {account(name)} IDENTIFIED BY {mysql_literal(password)}")
    execute(connection, f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account(name)}")
    return password


def create_reader(connection, name: str, password: str | None, database: str) -> str:
    """A login with SELECT on the Moodle database only; returns its password."""
    password = ensure_login(connection, name, password)
    execute(connection, f"GRANT SELECT ON {quote(database)}.* TO {account(name)}")
    return password


def create_builder(connection, name: str, password: str | None, database: str) -> str:
    """A login that creates, fills and replaces the analytics database's tables and
    may grant SELECT on them, without access to the Moodle tables; its password.
    (On the database itself: MariaDB lets a login pass on only privileges held on
    the very database, not through a pattern such as analytics\\_%.)"""
    password = ensure_login(connection, name, password)
    execute(
        connection,
        "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE VIEW, "
        f"SHOW VIEW ON {quote(database)}.* TO {account(name)} WITH GRANT OPTION",
    )
    return password


def grant_bi_access(connection, roles: Iterable[str], database: str) -> None:
    """SELECT on every table of the analytics database, now and when dbt rebuilds them."""
    for role in roles:
        execute(connection, f"GRANT SELECT ON {quote(database)}.* TO {account(role)}")


def bi_roles_from(text: str) -> list[str]:
    """The accounts of a comma-separated MOODLE_MYSQL_BI_ROLES."""
    return [role.strip() for role in text.split(",") if role.strip()]


@dataclass(frozen=True)
class SiteLogins(SiteLoginNames):
    """The names of a site's three logins, and its analytics database."""

    prefixes = ("MOODLE_MYSQL", "ANALYTICS_MYSQL")


def create_site_logins(
    connection,
    database: str,
    logins: SiteLogins = SiteLogins(),
    passwords: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """The reader, builder and BI logins of a site whose Moodle tables are in
    ``database``; returns login -> password (``passwords`` keeps known ones)."""
    if not query(connection, f"SHOW DATABASES LIKE {mysql_literal(database)}"):
        raise RoleError(f"no database {database!r} on this server; load the Moodle tables first")
    passwords = passwords or {}
    made = {
        logins.reader: create_reader(
            connection, logins.reader, passwords.get(logins.reader), database
        ),
        logins.builder: create_builder(
            connection, logins.builder, passwords.get(logins.builder), logins.analytics_database
        ),
        logins.bi: ensure_login(connection, logins.bi, passwords.get(logins.bi)),
    }
    return made

"""MySQL/MariaDB logins around the Moodle tables, as a site would set them up.

* reader: SELECT on the Moodle database and nothing else; the duckdb_mysql target
  reads the Moodle tables as it (a replica's login will do as well).
* builder: creates and fills the marts' databases (analytics_marts, analytics_ml,
  analytics_actions: dbt's schemas are MySQL databases) and may grant SELECT on
  them; no access to the Moodle tables.
* BI reader: SELECT on the marts' databases, granted by the duckdb_mysql target
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
from moodle_analytics.mysql.check import execute, literal, query

quote = MYSQL.quote
# The databases dbt creates for the marts on the duckdb_mysql target (target schema
# analytics, custom schemas marts, ml and actions).
MART_DATABASES = ("analytics_marts", "analytics_ml", "analytics_actions")
# A grant pattern covering them (and nothing of Moodle's): analytics_*.
MART_DATABASE_PATTERN = "analytics\\_%"


class RoleError(RuntimeError):
    pass


def account(name: str) -> str:
    """'name'@'host' of a login given as name or name@host (host defaults to %)."""
    user, _, host = name.partition("@")
    if not user:
        raise RoleError(f"{name!r} is not a MySQL account (name or name@host)")
    return f"{literal(user)}@{literal(host or '%')}"


def ensure_login(connection, name: str, password: str | None) -> str:
    """Create the login or reset its password, with no privileges kept; its password."""
    if not is_identifier(name):
        raise RoleError(f"{name!r} must be lowercase letters, digits and _")
    password = password or secrets.token_urlsafe(24)
    execute(connection, f"CREATE USER IF NOT EXISTS {account(name)}")
    execute(connection, f"ALTER USER {account(name)} IDENTIFIED BY {literal(password)}")
    execute(connection, f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account(name)}")
    return password


def create_reader(connection, name: str, password: str | None, database: str) -> str:
    """A login with SELECT on the Moodle database only; returns its password."""
    password = ensure_login(connection, name, password)
    execute(connection, f"GRANT SELECT ON {quote(database)}.* TO {account(name)}")
    return password


def create_builder(connection, name: str, password: str | None) -> str:
    """A login that creates, fills and replaces the marts' databases and may grant
    SELECT on them, without access to the Moodle tables; returns its password."""
    password = ensure_login(connection, name, password)
    execute(
        connection,
        "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE VIEW, "
        f"SHOW VIEW ON {quote(MART_DATABASE_PATTERN)}.* TO {account(name)} WITH GRANT OPTION",
    )
    return password


def grant_bi_access(connection, roles: Iterable[str], databases: Iterable[str]) -> None:
    """SELECT on every table of the marts' databases, now and when dbt rebuilds them."""
    for database in databases:
        for role in roles:
            execute(connection, f"GRANT SELECT ON {quote(database)}.* TO {account(role)}")


def bi_roles_from(text: str) -> list[str]:
    """The accounts of a comma-separated MOODLE_MYSQL_BI_ROLES."""
    return [role.strip() for role in text.split(",") if role.strip()]


@dataclass(frozen=True)
class SiteLogins:
    """The names of a site's three logins."""

    reader: str = "moodle_reader"
    builder: str = "moodle_builder"
    bi: str = "moodle_bi"

    def env(self, passwords: Mapping[str, str]) -> dict[str, str]:
        """The logins as env file lines record them; dbt grants the marts to the BI login."""
        return {
            "MOODLE_MYSQL_READER_USER": self.reader,
            "MOODLE_MYSQL_READER_PASSWORD": passwords[self.reader],
            "MOODLE_MYSQL_BUILDER_USER": self.builder,
            "MOODLE_MYSQL_BUILDER_PASSWORD": passwords[self.builder],
            "MOODLE_MYSQL_BI_USER": self.bi,
            "MOODLE_MYSQL_BI_PASSWORD": passwords[self.bi],
            "MOODLE_MYSQL_BI_ROLES": self.bi,
        }


def create_site_logins(
    connection,
    database: str,
    logins: SiteLogins = SiteLogins(),
    passwords: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """The reader, builder and BI logins of a site whose Moodle tables are in
    ``database``; returns login -> password (``passwords`` keeps known ones)."""
    if not query(connection, f"SHOW DATABASES LIKE {literal(database)}"):
        raise RoleError(f"no database {database!r} on this server; load the Moodle tables first")
    passwords = passwords or {}
    made = {
        logins.reader: create_reader(
            connection, logins.reader, passwords.get(logins.reader), database
        ),
        logins.builder: create_builder(connection, logins.builder, passwords.get(logins.builder)),
        logins.bi: ensure_login(connection, logins.bi, passwords.get(logins.bi)),
    }
    return made

"""DuckDB over MySQL/MariaDB: the dbt-duckdb plugin of the duckdb_mysql target.

Once per dbt run, before DuckDB attaches anything, the plugin

1. checks both logins (check.py), so a wrong setting fails with a message naming
   the environment variable rather than a driver error mid-build;
2. creates the analytics database (ANALYTICS_MYSQL_DBNAME, default analytics) with
   Moodle's character set if it is missing, and grants SELECT on it to the logins
   or roles in MOODLE_MYSQL_BI_ROLES (comma-separated; name or name@host): it holds
   the marts, risk tables and lists and nothing else, so that is all they read.

and for each DuckDB connection of the run it loads the packaged mysql extension,
sets how DuckDB reads MySQL (check.SESSION_SETTINGS: rows compared by DuckDB, not
by MySQL's case- and space-blind collation) and creates one in-memory secret per
login, so profiles.yml attaches them by name and holds no credentials (the
duckdb_mysql target there shows the plugin's config; moodle_db/logins_plugin.py
says what the plugins share).
"""

from __future__ import annotations

import os
from typing import Any

import duckdb

from moodle_analytics.moodle_db.logins_plugin import LoginsPlugin
from moodle_analytics.mysql.check import (
    MySQLSettings,
    MySQLSettingsError,
    check_writes_database,
    configure,
    connect,
    connect_output,
    execute,
)
from moodle_analytics.mysql.load import create_database_sql
from moodle_analytics.mysql.roles import RoleError, bi_roles_from, grant_bi_access

BI_ROLES_VARIABLE = "MOODLE_MYSQL_BI_ROLES"


def prepare_output(settings: MySQLSettings, bi_roles: list[str]) -> None:
    """Check the output login, create its analytics database, grant it to the BI roles."""
    connection = connect_output(settings)
    try:
        check_writes_database(connection, settings, bi_roles)
        execute(connection, create_database_sql(settings.dbname))
        try:
            grant_bi_access(connection, bi_roles, settings.dbname)
        except (duckdb.Error, RoleError) as error:
            raise MySQLSettingsError(
                f"cannot grant SELECT on {settings.dbname} to {BI_ROLES_VARIABLE}="
                f"{','.join(bi_roles)!r}: does each login or role exist? ({error})"
            ) from None
    finally:
        connection.close()


class Plugin(LoginsPlugin):
    """Checks the MySQL logins, prepares the analytics database, creates the secrets."""

    engine = "MySQL"
    login_class = MySQLSettings
    configure_duckdb = staticmethod(configure)

    def check_login(self, name: str, spec: dict[str, Any], settings: MySQLSettings) -> None:
        if spec.get("writes"):
            prepare_output(settings, bi_roles_from(os.environ.get(BI_ROLES_VARIABLE, "")))
        else:
            connect(settings).close()

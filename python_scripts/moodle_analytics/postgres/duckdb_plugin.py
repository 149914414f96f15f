"""DuckDB over PostgreSQL: the dbt-duckdb plugin of the duckdb_pg target.

DuckDB reaches PostgreSQL through its postgres extension, which must match the
duckdb version exactly and, offline, comes from the duckdb-extension-postgres wheel
(LOAD postgres would try to download it). For each new DuckDB connection of a dbt
run, the plugin

1. checks the PostgreSQL logins first (check.py), so a wrong setting fails with a
   message naming the environment variable rather than a driver error mid-build;
2. loads the packaged extension;
3. creates one DuckDB secret per login from environment variables, so profiles.yml
   attaches them by name and holds no credentials (in-memory secrets, never stored).

The duckdb_pg target of profiles.yml shows the plugin's config (an example is in
moodle_db/logins_plugin.py, with what the plugins share).
"""

from __future__ import annotations

from typing import Any

from moodle_analytics.moodle_db.logins_plugin import LoginsPlugin
from moodle_analytics.postgres.check import (
    ConnectionSettings,
    check_writes_schemas,
    connect,
)
from moodle_analytics.postgres.extension import load_postgres_extension


def create_secret_sql(name: str, settings: ConnectionSettings) -> str:
    """CREATE SECRET for one PostgreSQL login (temporary: lives with the connection)."""
    return settings.secret_sql(name)


class Plugin(LoginsPlugin):
    """Checks the PostgreSQL logins, loads the postgres extension, creates the secrets."""

    engine = "PostgreSQL"
    login_class = ConnectionSettings
    configure_duckdb = staticmethod(load_postgres_extension)

    def check_login(self, name: str, spec: dict[str, Any], settings: ConnectionSettings) -> None:
        conn = connect(settings)
        try:
            if spec.get("writes"):
                check_writes_schemas(conn, settings, f"the marts ({name})")
        finally:
            conn.close()

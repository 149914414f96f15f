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

profiles.yml (the duckdb_pg target)::

    plugins:
      - module: moodle_analytics.postgres.duckdb_plugin
        config:
          secrets:
            moodle_source: {env_prefix: MOODLE_PG}
            analytics_output: {env_prefix: ANALYTICS_PG, fallback_prefix: MOODLE_PG,
                               writes: true}
    attach:
      - {path: "", type: postgres, secret: moodle_source, alias: moodle, read_only: true}
      - {path: "", type: postgres, secret: analytics_output, alias: analytics_pg}
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

from moodle_analytics.postgres.check import (
    ConnectionSettings,
    ConnectionSettingsError,
    check_writes_schemas,
    connect,
)
from moodle_analytics.postgres.extension import ExtensionError, load_postgres_extension

SECRET_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_secret_sql(name: str, settings: ConnectionSettings) -> str:
    """CREATE SECRET for one PostgreSQL login (temporary: lives with the connection)."""
    if not SECRET_NAME.fullmatch(name):
        raise ValueError(f"secret name {name!r} must be lowercase letters, digits and _")
    options = [
        "TYPE postgres",
        f"HOST {_literal(settings.host)}",
        f"PORT {settings.port}",
        f"DATABASE {_literal(settings.dbname)}",
        f"USER {_literal(settings.user)}",
    ]
    if settings.password is not None:
        options.append(f"PASSWORD {_literal(settings.password)}")
    return f"CREATE OR REPLACE SECRET {name} ({', '.join(options)})"


class Plugin(BasePlugin):
    """Checks the logins, loads the postgres extension and creates their secrets."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        secrets = plugin_config.get("secrets") or {}
        if not secrets:
            raise DbtRuntimeError(f"plugin {self.name}: config.secrets lists no logins")
        self.settings: dict[str, ConnectionSettings] = {}
        try:
            for name, spec in secrets.items():
                settings = ConnectionSettings.from_env(
                    spec["env_prefix"], spec.get("fallback_prefix")
                )
                conn = connect(settings)
                try:
                    if spec.get("writes"):
                        check_writes_schemas(conn, settings, f"the marts ({name})")
                finally:
                    conn.close()
                self.settings[name] = settings
        except ConnectionSettingsError as error:
            raise DbtRuntimeError(f"PostgreSQL connection settings: {error}") from None
        except KeyError as error:
            raise DbtRuntimeError(f"plugin {self.name}: a secret lacks {error}") from None

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        try:
            load_postgres_extension(conn)
        except ExtensionError as error:
            raise DbtRuntimeError(str(error)) from None
        for name, settings in self.settings.items():
            conn.execute(create_secret_sql(name, settings))

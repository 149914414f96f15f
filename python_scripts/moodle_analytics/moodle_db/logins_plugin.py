"""What the dbt-duckdb plugins of the duckdb_pg and duckdb_mysql targets share.

Once per dbt run, before DuckDB attaches anything, each login named in the
plugin's config (``secrets: {name: {env_prefix, fallback_prefix, writes}}``) is
read from its environment variables and checked, so that a wrong setting stops
the run with a message naming the variable; the target's warehouse directory is
made (a fresh clone has no data/). For each DuckDB connection, the engine's
extension is loaded and one in-memory secret per login created, which the
profile's attachments name. An engine names its login class (from_env,
secret_sql) and its DuckDB set-up, and says how to check a login.

profiles.yml (the duckdb_pg target; duckdb_mysql's is alike)::

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

from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

from moodle_analytics.moodle_db.extensions import ExtensionError, make_warehouse_directory


class LoginsPlugin(BasePlugin):
    """Checks the logins of a target, loads its extension and creates their secrets."""

    # The engine's name in messages, and its login class: from_env(prefix,
    # fallback_prefix), secret_sql(name), and the error its checks raise (error).
    engine = "the database"
    login_class: Any = None

    def read_login(self, spec: dict[str, Any]):
        """The login's settings, from the environment variables ``spec`` names."""
        return self.login_class.from_env(spec["env_prefix"], spec.get("fallback_prefix"))

    def check_login(self, name: str, spec: dict[str, Any], settings) -> None:
        """Connect as the login (and, when ``spec`` says it writes, check it may)."""
        raise NotImplementedError

    def configure_duckdb(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Load the engine's DuckDB extension into a new connection."""
        raise NotImplementedError

    def secret_sql(self, name: str, settings) -> str:
        """CREATE SECRET ``name`` for the login."""
        return settings.secret_sql(name)

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        make_warehouse_directory(self.creds.path if self.creds else None)
        secrets = plugin_config.get("secrets") or {}
        if not secrets:
            raise DbtRuntimeError(f"plugin {self.name}: config.secrets lists no logins")
        self.settings: dict[str, Any] = {}
        try:
            for name, spec in secrets.items():
                settings = self.read_login(spec)
                self.check_login(name, spec, settings)
                self.settings[name] = settings
        except self.login_class.error as error:
            raise DbtRuntimeError(f"{self.engine} connection settings: {error}") from None
        except ExtensionError as error:
            raise DbtRuntimeError(str(error)) from None
        except KeyError as error:
            raise DbtRuntimeError(f"plugin {self.name}: a secret lacks {error}") from None

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        try:
            self.configure_duckdb(conn)
        except ExtensionError as error:
            raise DbtRuntimeError(str(error)) from None
        for name, settings in self.settings.items():
            conn.execute(self.secret_sql(name, settings))

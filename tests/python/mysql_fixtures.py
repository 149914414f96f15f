"""pytest fixtures: a private MariaDB server, with a Moodle demo loaded as Moodle's
installer creates its tables on MySQL.

A plugin module; tests/python/conftest.py registers it with
``pytest_plugins = ["mysql_fixtures"]``.

* ``mysql_server``: one server for the session, stopped and deleted afterwards.
* ``mysql_moodle``: the small demo the PostgreSQL tests load too (``pg_demo_source``)
  loaded into database ``moodle``, with the site's reader, builder and BI logins.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from moodle_analytics.mysql.load import MySQLLoadResult, load_moodle
from moodle_analytics.mysql.roles import SiteLogins, create_site_logins
from moodle_analytics.mysql.server import MariaDBError, MariaDBServer
from postgres_fixtures import DemoSource

LOGINS = SiteLogins()


@dataclass
class LoadedMySQL:
    server: MariaDBServer
    source: DemoSource
    result: MySQLLoadResult
    passwords: dict[str, str]
    load_seconds: float

    def login_env(self, prefix: str, login: str, database: str) -> dict[str, str]:
        """The <prefix>_* variables a dbt target reads to connect as ``login``."""
        return {
            f"{prefix}_HOST": self.server.host,
            f"{prefix}_PORT": str(self.server.port),
            f"{prefix}_USER": login,
            f"{prefix}_PASSWORD": self.passwords[login],
            f"{prefix}_DBNAME": database,
        }

    def admin(self):
        """DuckDB with the server attached writable as ``mysql``, as the administrator."""
        return self.server.connect()


@pytest.fixture(scope="session")
def mysql_server(tmp_path_factory):
    try:
        server = MariaDBServer(base_dir=tmp_path_factory.mktemp("mariadb")).start()
    except MariaDBError as error:
        pytest.fail(f"could not start a private MariaDB server: {error}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mysql_moodle(mysql_server: MariaDBServer, pg_demo_source) -> LoadedMySQL:
    started = time.perf_counter()
    result = load_moodle(mysql_server.settings(), pg_demo_source.duckdb, database="moodle")
    seconds = time.perf_counter() - started
    with mysql_server.connect() as connection:
        passwords = create_site_logins(connection, "moodle", LOGINS)
    return LoadedMySQL(mysql_server, pg_demo_source, result, passwords, seconds)

"""moodle-mysql's private MariaDB server: its life cycle, and that it never touches
a server it did not start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from moodle_analytics.moodle_db.ddl import MYSQL, create_table_sql, mysql_type
from moodle_analytics.moodle_db.local_server import port_is_free
from moodle_analytics.mysql.check import MySQLSettings, connect, query
from moodle_analytics.mysql.server import (
    MariaDBError,
    MariaDBServer,
    install_mariadb,
    read_env_file,
)

pytest_plugins = ["postgres_fixtures", "mysql_fixtures"]
pytestmark = pytest.mark.mysql


def test_xmldb_lengths_pick_the_mysql_integer_types():
    assert [mysql_type("smallint", n) for n in (1, 2, 3, 4)] == [
        "TINYINT(1)", "TINYINT(2)", "SMALLINT(3)", "SMALLINT(4)",
    ]  # fmt: skip
    assert [mysql_type("integer", n) for n in (5, 6, 7, 9)] == [
        "MEDIUMINT(5)", "MEDIUMINT(6)", "INT(7)", "INT(9)",
    ]  # fmt: skip
    assert mysql_type("bigint", 10) == "BIGINT(10)"
    # Length not on record: PostgreSQL's size, which holds the same values.
    assert (mysql_type("smallint"), mysql_type("integer")) == ("SMALLINT", "INT")
    assert (mysql_type("text"), mysql_type("numeric(10,5)")) == ("LONGTEXT", "DECIMAL(10,5)")
    statement = create_table_sql("course", MYSQL, "mdl_", "moodle")
    assert statement.startswith(
        "CREATE TABLE `moodle`.`mdl_course` (\n    `id` BIGINT(10) NOT NULL"
    )
    assert "AUTO_INCREMENT" in statement and "PRIMARY KEY (`id`)" in statement
    assert statement.endswith("COLLATE = utf8mb4_unicode_ci ROW_FORMAT = DYNAMIC")


def test_a_taken_port_is_reported(mysql_server):
    with pytest.raises(MariaDBError, match=f"port {mysql_server.port} .* already in use"):
        MariaDBServer(mysql_server.port).start()


def test_a_directory_it_did_not_make_is_left_alone(tmp_path):
    server = MariaDBServer()
    server.root = tmp_path
    with pytest.raises(MariaDBError, match="not created by moodle-mysql"):
        server.stop()
    assert tmp_path.exists()


def test_a_failed_install_is_explained(tmp_path, monkeypatch):
    fake_apt = tmp_path / "apt-get"
    fake_apt.write_text(
        "#!/bin/sh\necho 'E: Unable to locate package mariadb-server' >&2\nexit 100\n"
    )
    fake_apt.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(MariaDBError, match=r"(?s)apt-get install -y mariadb-server.*Unable to"):
        install_mariadb()


def test_cli_start_load_status_stop(tmp_path, pg_demo_source):
    env_file = tmp_path / "mysql.env"

    def cli(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "moodle_analytics.mysql.cli", *args]
        return subprocess.run(
            [*command, "--env-file", str(env_file)], capture_output=True, text=True
        )

    assert cli("status").returncode == 3
    started = cli("start", "--base-dir", str(tmp_path))
    assert started.returncode == 0, started.stderr
    try:
        assert env_file.stat().st_mode & 0o077 == 0
        assert cli("start").returncode == 1  # one server per env file
        assert cli("status").returncode == 0
        loaded = cli("load", "--duckdb", str(pg_demo_source.duckdb))
        assert loaded.returncode == 0, loaded.stderr
        values = read_env_file(env_file)
        reader = MySQLSettings.from_env(
            "R",
            environ={
                "R_HOST": values["MOODLE_MYSQL_HOST"],
                "R_PORT": values["MOODLE_MYSQL_PORT"],
                "R_USER": values["MOODLE_MYSQL_READER_USER"],
                "R_PASSWORD": values["MOODLE_MYSQL_READER_PASSWORD"],
            },
        )
        with connect(reader) as connection:
            assert query(connection, "SELECT count(*) FROM mdl_logstore_standard_log")[0][0] > 0
        again = cli("load", "--duckdb", str(pg_demo_source.duckdb))
        assert again.returncode == 2 and "--replace" in again.stderr
    finally:
        stopped = cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not env_file.exists()
    assert not os.path.exists(values["MOODLE_MYSQL_ROOT"])
    assert port_is_free(int(values["MOODLE_MYSQL_PORT"]))
    assert cli("status").returncode == 3

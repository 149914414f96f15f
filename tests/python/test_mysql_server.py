"""moodle-mysql's private MariaDB server: its life cycle, and that it never touches
a server it did not start."""

from __future__ import annotations

import os

import pytest

from moodle_analytics.moodle_db.ddl import MYSQL, create_table_sql, mysql_type
from moodle_analytics.mysql.check import MySQLSettings, connect, query
from moodle_analytics.mysql.server import (
    MariaDBError,
    MariaDBServer,
    install_mariadb,
)
from server_cli import check_start_load_status_stop

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
    def reader_reads_the_log(values: dict[str, str]) -> None:
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

    check_start_load_status_stop(
        "moodle_analytics.mysql.cli",
        "MOODLE_MYSQL",
        tmp_path / "mysql.env",
        pg_demo_source.duckdb,
        reader_reads_the_log,
        ("--base-dir", str(tmp_path)),
    )

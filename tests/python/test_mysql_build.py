"""The project on a MySQL/MariaDB Moodle site: the duckdb_mysql target, serving, parity.

The small demo the PostgreSQL tests use is loaded into a private MariaDB server
as Moodle's installer creates its tables on MySQL; two builds:

* ``duckdb``: the default target, reading the demo's DuckDB file (the
  ``pg_demo_reference`` build, which the PostgreSQL tests compare with too);
* ``duckdb_mysql``: DuckDB attaches the Moodle database read-only as the reader
  login, builds in a local file in a directory that does not exist yet (a fresh
  clone has no data/), and publishes the marts to the "analytics" database as
  the builder login, granting SELECT to the BI login.

Every mart and risk table read back from MySQL must hold the rows of the DuckDB
build: integers, text, booleans and timestamps exactly equal, floats within a
relative 1e-9 (mart_compare). MySQL has no boolean: a TINYINT(1) read back is
compared as the boolean DuckDB wrote. Both builds fit the two quick risk models
of the PostgreSQL tests: the forests of the default set turn the last-bit
differences of a running average (summed in another order when rows arrive
from MySQL) into probabilities that differ in the sixth digit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

import duckdb
import pytest

from dbt_project import QUICK_RISK_VARS, WITHOUT_TESTS, Workspace
from mart_compare import Mart, comparable, compare_builds, duckdb_table_rows, marts_of
from moodle_analytics.moodle_db.tables import MOODLE_INT_LENGTHS, MOODLE_KEYS, MOODLE_TABLES
from moodle_analytics.mysql import cli as mysql_cli
from moodle_analytics.mysql.check import MySQLSettings, configure, execute, query
from moodle_analytics.mysql.server import write_env_file
from mysql_fixtures import LOGINS, LoadedMySQL
from postgres_fixtures import ReferenceBuild

pytest_plugins = ["mysql_fixtures"]
pytestmark = pytest.mark.mysql

RUN_MEASUREMENTS = {"fit_seconds"}
ANALYTICS = "analytics"


@dataclass
class MySQLBuild:
    moodle: LoadedMySQL
    reference: Workspace
    workspace: Workspace
    result: subprocess.CompletedProcess
    seconds: float
    fingerprint_before: dict[str, tuple]
    fingerprint_after: dict[str, tuple]

    def require(self) -> None:
        if self.result.returncode != 0:
            pytest.fail(
                f"the duckdb_mysql build failed:\n{self.result.stdout[-5000:]}", pytrace=False
            )


def moodle_fingerprints(loaded: LoadedMySQL) -> dict[str, tuple]:
    """Checksum and row count of every Moodle table."""
    with loaded.admin() as connection:
        return {
            table: (
                query(connection, f"CHECKSUM TABLE `moodle`.`mdl_{table}`")[0][1],
                query(connection, f"SELECT count(*) FROM `moodle`.`mdl_{table}`")[0][0],
            )
            for table in MOODLE_TABLES
        }


@pytest.fixture(scope="module")
def mysql_build(
    mysql_moodle: LoadedMySQL, pg_demo_reference: ReferenceBuild, tmp_path_factory
) -> MySQLBuild:
    pg_demo_reference.require()
    reference = pg_demo_reference.workspace
    root = tmp_path_factory.mktemp("mysql_build")
    source = mysql_moodle.source
    reader, builder = LOGINS.reader, LOGINS.builder
    warehouse = root / "fresh" / "data" / "moodle_analytics_mysql.duckdb"
    workspace = Workspace(
        directory=root,
        source=source.duckdb,
        warehouse=warehouse,
        ground_truth=source.ground_truth,
        extra_env={
            **mysql_moodle.login_env("MOODLE_MYSQL", reader, "moodle"),
            **mysql_moodle.login_env("ANALYTICS_MYSQL", builder, ANALYTICS),
            "MOODLE_MYSQL_BI_ROLES": LOGINS.bi,
            "MOODLE_ANALYTICS_DUCKDB_MYSQL": str(warehouse),
        },
    )
    before = moodle_fingerprints(mysql_moodle)
    started = time.perf_counter()
    result = workspace.dbt(
        "build", "--target", "duckdb_mysql", *WITHOUT_TESTS, *QUICK_RISK_VARS, check=False
    )
    seconds = time.perf_counter() - started
    print(
        f"\nMariaDB: loaded {mysql_moodle.result.total_rows:,} rows in "
        f"{mysql_moodle.load_seconds:.1f} s; build duckdb_mysql {seconds:.1f} s"
    )
    after = moodle_fingerprints(mysql_moodle)
    return MySQLBuild(mysql_moodle, reference, workspace, result, seconds, before, after)


def bi_connection(loaded: LoadedMySQL) -> duckdb.DuckDBPyConnection:
    """DuckDB with the analytics database attached read-only as the BI login."""
    settings = MySQLSettings.from_env("BI", environ=loaded.login_env("BI", LOGINS.bi, ANALYTICS))
    connection = duckdb.connect()
    configure(connection)
    connection.execute(settings.secret_sql("bi_login"))
    connection.execute("ATTACH '' AS bi (TYPE mysql, SECRET bi_login, READ_ONLY)")
    return connection


def rows_of_mysql(connection, workspace: Workspace, mart: Mart):
    """A published mart as the BI login reads it, in the DuckDB build's column types
    (MySQL keeps booleans as TINYINT(1))."""
    with workspace.connect() as local:
        types = dict(
            local.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [mart.schema, mart.name],
            ).fetchall()
        )
    columns = ", ".join(
        f'cast("{name}" as boolean) as "{name}"' if kind == "BOOLEAN" else f'"{name}"'
        for name, kind in types.items()
    )
    cursor = connection.execute(f'select {columns} from bi.{ANALYTICS}."{mart.name}"')
    names = [column[0] for column in cursor.description]
    return comparable(names, cursor.fetchall(), RUN_MEASUREMENTS)


def test_duckdb_mysql_build_passes(mysql_build: MySQLBuild):
    mysql_build.require()
    summary = re.search(r"Done\. PASS=(\d+) WARN=\d+ ERROR=(\d+)", mysql_build.result.stdout)
    assert summary and int(summary.group(1)) > 50 and summary.group(2) == "0"
    # A fresh clone has no data/: the target made the warehouse's directory.
    assert mysql_build.workspace.warehouse.exists()
    assert "published" in mysql_build.result.stdout


def test_mysql_marts_equal_duckdb_marts(mysql_build: MySQLBuild):
    mysql_build.require()
    reference = mysql_build.reference
    with bi_connection(mysql_build.moodle) as connection:
        compared, failures = compare_builds(
            reference.directory / "target",
            mysql_build.workspace.directory / "target",
            lambda mart: duckdb_table_rows(reference, mart.schema, mart.name, RUN_MEASUREMENTS),
            lambda mart: rows_of_mysql(connection, mysql_build.workspace, mart),
        )
    # Same engine both ways: every mart compared, the Python risk models included.
    assert set(compared) == set(marts_of(reference.directory / "target"))
    assert {"fct_learner_risk_scores", "rpt_risk_backtest", "fct_learner_weeks"} <= set(compared)
    assert not failures, failures


def test_moodle_tables_as_moodle_installs_them(mysql_moodle: LoadedMySQL):
    with mysql_moodle.admin() as connection:
        tables = dict(
            query(
                connection,
                "SELECT table_name, concat(engine, ' ', table_collation) FROM "
                "information_schema.tables WHERE table_schema = 'moodle'",
            )
        )
        columns = {
            (table, column): (kind, extra)
            for table, column, kind, extra in query(
                connection,
                "SELECT table_name, column_name, column_type, extra FROM "
                "information_schema.columns WHERE table_schema = 'moodle'",
            )
        }
        indexes = {
            name
            for (name,) in query(
                connection,
                "SELECT DISTINCT index_name FROM information_schema.statistics "
                "WHERE table_schema = 'moodle'",
            )
        }
    assert set(tables) == {f"mdl_{table}" for table in MOODLE_TABLES}
    assert set(tables.values()) == {"InnoDB utf8mb4_unicode_ci"}
    assert columns[("mdl_user", "id")] == ("bigint(10)", "auto_increment")
    assert columns[("mdl_course", "visible")][0] == "tinyint(1)"
    assert MOODLE_INT_LENGTHS[("course", "visible")] == 1
    assert columns[("mdl_quiz_attempts", "attempt")][0] == "mediumint(6)"
    assert columns[("mdl_grade_grades", "finalgrade")][0] == "decimal(10,5)"
    assert columns[("mdl_course", "summary")][0] == "longtext"
    assert columns[("mdl_logstore_standard_log", "eventname")][0] == "varchar(255)"
    expected = {"PRIMARY"} | {
        f"mdl_{index.name}" for keys in MOODLE_KEYS.values() for index in keys.indexes
    }
    assert indexes == expected


def test_moodle_tables_never_written(mysql_build: MySQLBuild):
    mysql_build.require()
    assert mysql_build.fingerprint_after == mysql_build.fingerprint_before
    with mysql_build.moodle.admin() as connection:
        grants = {
            login: " ".join(row[0] for row in query(connection, f"SHOW GRANTS FOR '{login}'@'%'"))
            for login in (LOGINS.reader, LOGINS.builder, LOGINS.bi)
        }
    assert "GRANT SELECT ON `moodle`.*" in grants[LOGINS.reader]
    assert "moodle" not in grants[LOGINS.builder].replace("moodle_builder", "")
    assert "GRANT SELECT ON `analytics`.*" in grants[LOGINS.bi]
    assert "moodle`" not in grants[LOGINS.bi]


def test_bi_login_reads_the_marts_and_nothing_else(mysql_build: MySQLBuild):
    mysql_build.require()
    with bi_connection(mysql_build.moodle) as connection:
        assert query(connection, "SELECT count(*) FROM analytics.dim_courses", "bi")[0][0] > 0
        for statement in (
            "SELECT 1 FROM moodle.mdl_user LIMIT 1",
            "DELETE FROM analytics.dim_courses",
        ):
            with pytest.raises(duckdb.Error, match="denied"):
                query(connection, statement, "bi")


def test_comparisons_with_padded_text_follow_duckdb(mysql_moodle: LoadedMySQL):
    # MariaDB's PAD SPACE collation finds 'a  ' = 'A'; DuckDB, as on every engine, not.
    with mysql_moodle.admin() as connection:
        execute(connection, "CREATE DATABASE IF NOT EXISTS padding_check")
        execute(connection, "DROP TABLE IF EXISTS padding_check.t")
        execute(
            connection,
            "CREATE TABLE padding_check.t (id INT, name VARCHAR(10)) COLLATE utf8mb4_unicode_ci",
        )
        execute(connection, "INSERT INTO padding_check.t VALUES (1, ''), (2, '  '), (3, 'A')")
        assert len(query(connection, "SELECT id FROM padding_check.t WHERE name = ''")) == 2
        found = connection.execute(
            "select id from mysql.padding_check.t where name = '' or name = 'a' order by id"
        ).fetchall()
        execute(connection, "DROP DATABASE padding_check")
    assert found == [(1,)]


# -- bad settings name the variable to fix -------------------------------------------
def check(monkeypatch, capsys, environ: dict[str, str]) -> tuple[int, str]:
    for key in [k for k in os.environ if k.startswith(("MOODLE_MYSQL", "ANALYTICS_MYSQL"))]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    code = mysql_cli.main(["check"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_check_passes_with_good_settings(mysql_build: MySQLBuild, monkeypatch, capsys):
    code, output = check(monkeypatch, capsys, mysql_build.workspace.extra_env)
    assert code == 0, output
    assert "reads 34 Moodle tables" in output and "grant them to moodle_bi" in output


def test_check_passes_through_the_unix_socket(mysql_build: MySQLBuild, monkeypatch, capsys):
    environ = {
        key: value
        for key, value in mysql_build.workspace.extra_env.items()
        if not key.endswith(("_HOST", "_PORT"))
    }
    environ["MOODLE_MYSQL_SOCKET"] = str(mysql_build.moodle.server.socket)
    code, output = check(monkeypatch, capsys, environ)
    assert code == 0, output
    assert str(mysql_build.moodle.server.socket) in output


@pytest.mark.parametrize(
    ("change", "variable", "reason"),
    [
        ({"MOODLE_MYSQL_PASSWORD": "wrong"}, "MOODLE_MYSQL_PASSWORD", "refused"),
        ({"MOODLE_MYSQL_DBNAME": "no_such_database"}, "MOODLE_MYSQL_DBNAME", "may not use"),
        ({"MOODLE_MYSQL_PORT": "1"}, "MOODLE_MYSQL_PORT", "nothing accepts connections"),
        ({"MOODLE_MYSQL_PORT": "five"}, "MOODLE_MYSQL_PORT", "not a port number"),
        ({"MOODLE_MYSQL_HOST": "no-such-host.invalid"}, "MOODLE_MYSQL_HOST", "resolve"),
        (
            {"MOODLE_MYSQL_SOCKET": "/nonexistent/mysqld.sock", "MOODLE_MYSQL_HOST": ""},
            "MOODLE_MYSQL_SOCKET",
            "socket",
        ),
        ({"MOODLE_MYSQL_USER": ""}, "MOODLE_MYSQL_USER", "not set"),
        # The builder may not read the Moodle database: a missing privilege.
        ("builder", "MOODLE_MYSQL_DBNAME", "may not use"),
        # A database without Moodle's tables.
        ("analytics", "MOODLE_MYSQL_DBNAME", "no Moodle tables"),
        # The reader may not write the marts.
        ("reader", "ANALYTICS_MYSQL_USER", "lacks CREATE"),
        ({"ANALYTICS_MYSQL_PASSWORD": "wrong"}, "ANALYTICS_MYSQL_PASSWORD", "refused"),
    ],
)
def test_check_names_the_variable_to_fix(
    mysql_build: MySQLBuild, monkeypatch, capsys, change, variable, reason
):
    mysql_build.require()
    loaded = mysql_build.moodle
    environ = dict(mysql_build.workspace.extra_env)
    if change == "builder":
        change = loaded.login_env("MOODLE_MYSQL", LOGINS.builder, "moodle")
    elif change == "analytics":
        change = loaded.login_env("MOODLE_MYSQL", LOGINS.builder, ANALYTICS)
    elif change == "reader":
        change = loaded.login_env("ANALYTICS_MYSQL", LOGINS.reader, ANALYTICS)
    environ.update(change)
    code, output = check(monkeypatch, capsys, environ)
    assert code == 2, output
    message = output.split("MySQL said")[0]
    assert len(output.strip().splitlines()) == 1, output
    assert variable in message and reason in message, output
    assert "password=" not in output


def test_dbt_names_the_variable_to_fix(mysql_build: MySQLBuild):
    mysql_build.require()
    workspace = mysql_build.workspace
    wrong = workspace.with_env(MOODLE_MYSQL_PASSWORD="wrong")
    result = wrong.dbt("run", "--target", "duckdb_mysql", "-s", "stg_moodle__users", check=False)
    assert result.returncode != 0
    assert "MOODLE_MYSQL_PASSWORD" in result.stdout, result.stdout[-3000:]
    assert "password=wrong" not in result.stdout


def test_a_failed_load_leaves_the_moodle_tables_as_they_were(
    mysql_build: MySQLBuild, tmp_path, monkeypatch, capsys
):
    mysql_build.require()
    broken = tmp_path / "broken.duckdb"
    shutil.copy(mysql_build.moodle.source.duckdb, broken)
    with duckdb.connect(str(broken)) as connection:
        # Two courses with one id: the primary key refuses the second.
        connection.execute("insert into public.mdl_course select * from public.mdl_course limit 1")
    env_file = tmp_path / "mysql.env"
    write_env_file(env_file, mysql_build.moodle.server.env())
    code = mysql_cli.main(
        ["load", "--env-file", str(env_file), "--duckdb", str(broken), "--replace", "--no-logins"]
    )
    output = capsys.readouterr()
    assert code == 2
    assert "Moodle tables in moodle are as they were" in output.err
    assert len(output.err.strip().splitlines()) == 1, output.err
    assert moodle_fingerprints(mysql_build.moodle) == mysql_build.fingerprint_before
    with mysql_build.moodle.admin() as connection:
        assert query(connection, "SHOW DATABASES LIKE 'moodle\\_\\_%'") == []

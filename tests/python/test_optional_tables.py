"""Optional Moodle tables on every engine: a site without an activity plugin's table.

Only the log, users, courses, contexts, roles, role assignments and enrolments
are required. A site may lack mdl_feedback (the plugin uninstalled): each engine
warns, naming the table as optional, and the staging model reading it has the
table's columns and no rows. Each engine runs only that model, on a small demo
whose mdl_feedback is gone: DuckDB, PostgreSQL (dbt-postgres and duckdb_pg, its
warehouse in a directory a fresh clone does not have yet), duckdb_mysql and
Spark. A missing required table still stops the run, and `moodle-pg check` and
`moodle-mysql check` name the optional one as such.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import duckdb
import pytest

from dbt_project import PROJECT_DIR, Workspace, generate_demo
from moodle_analytics.moodle_db.tables import MOODLE_REQUIRED_TABLES, MOODLE_TABLES
from moodle_analytics.mysql import cli as mysql_cli
from moodle_analytics.mysql.check import execute, query
from moodle_analytics.mysql.load import load_moodle as load_mysql
from moodle_analytics.postgres import cli as pg_cli
from postgres_fixtures import LoadedMoodle

pytest_plugins = ["postgres_fixtures", "mysql_fixtures"]

MODEL = "stg_moodle__feedbacks"
WARNING = "Optional Moodle tables not found"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Workspace:
    """A small demo, and a copy of its Moodle file without mdl_feedback."""
    workspace = generate_demo(tmp_path_factory.mktemp("optional"), "--learners-per-course", "5")
    without = workspace.directory / "without_feedback.duckdb"
    shutil.copy(workspace.source, without)
    with duckdb.connect(str(without)) as connection:
        connection.execute("drop table public.mdl_feedback")
    return workspace


def without_feedback(site: Workspace, name: str, extra_env: dict[str, str] | None = None):
    directory = site.directory / name
    directory.mkdir()
    return Workspace(
        directory,
        site.directory / "without_feedback.duckdb",
        directory / "warehouse.duckdb",
        site.ground_truth,
        dict(extra_env or {}),
    )


def assert_empty_model(result: subprocess.CompletedProcess, rows: int) -> None:
    assert result.returncode == 0, result.stdout[-4000:]
    assert WARNING in result.stdout or "Optional Moodle table mdl_feedback" in result.stdout
    assert "mdl_feedback" in result.stdout
    assert rows == 0


def test_the_macro_knows_every_optional_table_with_moodles_columns():
    text = (PROJECT_DIR / "macros" / "moodle_optional_tables.sql").read_text()
    for table, columns in MOODLE_TABLES.items():
        entry = f"'{table}': ["
        assert (entry in text) == (table not in MOODLE_REQUIRED_TABLES), table
        if table in MOODLE_REQUIRED_TABLES:
            continue
        listed = text.split(entry, 1)[1].split("]", 1)[0]
        assert re.findall(r"'([^']*)'", listed) == [
            f"{name} {kind}" for name, kind, *_ in columns
        ], table


def test_duckdb_warns_and_reads_no_rows(site: Workspace):
    complete = Workspace(
        site.directory / "complete",
        site.source,
        site.directory / "complete.duckdb",
        site.ground_truth,
    )
    (site.directory / "complete").mkdir()
    complete.dbt("run", "-s", MODEL)
    workspace = without_feedback(site, "duckdb")
    result = workspace.dbt("run", "-s", MODEL, check=False)
    describe = f"describe analytics_staging.{MODEL}"
    assert_empty_model(
        result, workspace.query(f"select count(*) from analytics_staging.{MODEL}")[0][0]
    )
    # The stand-in has the columns and types the real table gives.
    assert workspace.query(describe) == complete.query(describe)


def test_a_missing_required_table_still_stops_the_run(site: Workspace):
    workspace = without_feedback(site, "required")
    with duckdb.connect(str(workspace.source)) as connection:
        connection.execute("create table public.role_kept as select * from public.mdl_role")
        connection.execute("drop table public.mdl_role")
    try:
        result = workspace.dbt("run", "-s", "stg_moodle__roles", check=False)
    finally:
        with duckdb.connect(str(workspace.source)) as connection:
            connection.execute("alter table public.role_kept rename to mdl_role")
    assert result.returncode != 0
    assert "Moodle tables not found in moodle.public: mdl_role" in result.stdout


@pytest.fixture(scope="module")
def pg_without_feedback(pg_moodle: LoadedMoodle):
    conn = pg_moodle.connect()
    with conn, conn.cursor() as cursor:
        cursor.execute("alter table public.mdl_feedback rename to feedback_kept")
    yield pg_moodle
    conn = pg_moodle.connect()
    with conn, conn.cursor() as cursor:
        cursor.execute("alter table public.feedback_kept rename to mdl_feedback")
    conn.close()


@pytest.mark.postgres
def test_moodle_pg_check_names_the_optional_table(pg_without_feedback, monkeypatch, capsys):
    for key, value in pg_without_feedback.server.env(libpq=False).items():
        monkeypatch.setenv(key, value)
    code = pg_cli.main(["check", "--target", "postgres"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "optional Moodle tables missing: mdl_feedback" in output
    assert "is MOODLE_PG_DBNAME a Moodle database" not in output


@pytest.mark.postgres
@pytest.mark.parametrize("target", ["postgres", "duckdb_pg"])
def test_postgres_targets_warn_and_read_no_rows(pg_without_feedback, site, target):
    server = pg_without_feedback.server
    # duckdb_pg's warehouse in a data/ directory that does not exist yet.
    fresh = site.directory / f"fresh_{target}" / "data" / "moodle_analytics_pg.duckdb"
    workspace = without_feedback(
        site, target, {**server.env(libpq=False), "MOODLE_ANALYTICS_DUCKDB_PG": str(fresh)}
    )
    result = workspace.dbt("run", "--target", target, "-s", MODEL, check=False)
    if target == "postgres":
        conn = pg_without_feedback.connect()
        with conn.cursor() as cursor:
            cursor.execute(f"select count(*) from analytics_staging.{MODEL}")
            rows = cursor.fetchone()[0]
        conn.close()
    else:
        with duckdb.connect(str(fresh), read_only=True) as connection:
            rows = connection.execute(f"select count(*) from analytics_staging.{MODEL}").fetchone()[
                0
            ]
    assert_empty_model(result, rows)


@pytest.mark.mysql
def test_duckdb_mysql_warns_and_reads_no_rows(mysql_server, site, monkeypatch, capsys):
    load_mysql(mysql_server.settings(), site.source, database="moodle_optional", replace=True)
    with mysql_server.connect() as connection:
        execute(connection, "DROP TABLE moodle_optional.mdl_feedback")
    env = {
        **mysql_server.env(),
        "MOODLE_MYSQL_DBNAME": "moodle_optional",
        "ANALYTICS_MYSQL_DBNAME": "analytics_optional",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = mysql_cli.main(["check"])
    output = capsys.readouterr().out
    assert code == 0 and "optional Moodle tables missing: mdl_feedback" in output, output
    warehouse = site.directory / "mysql" / "warehouse.duckdb"
    workspace = without_feedback(
        site, "mysql", {**env, "MOODLE_ANALYTICS_DUCKDB_MYSQL": str(warehouse)}
    )
    result = workspace.dbt("run", "--target", "duckdb_mysql", "-s", MODEL, check=False)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        # The target's schema is the analytics database's name, locally too.
        rows = connection.execute(
            f"select count(*) from analytics_optional_staging.{MODEL}"
        ).fetchone()[0]
    assert_empty_model(result, rows)
    with mysql_server.connect() as connection:
        assert query(connection, "SHOW TABLES FROM moodle_optional LIKE 'mdl_feedback'") == []


@pytest.mark.spark
def test_spark_warns_and_reads_no_rows(site: Workspace):
    pytest.importorskip("pyspark")
    parquet_dir = site.directory / "parquet"
    parquet_dir.mkdir()
    with duckdb.connect(str(site.source), read_only=True) as connection:
        for table in MOODLE_TABLES:
            if table != "feedback":
                target = parquet_dir / f"mdl_{table}.parquet"
                connection.execute(f"copy public.mdl_{table} to '{target}' (format parquet)")
    spark_dir = site.directory / "spark"
    workspace = without_feedback(site, "spark", {"MOODLE_SPARK_DIR": str(spark_dir)})
    result = workspace.dbt(
        "run",
        "--target",
        "spark",
        "-s",
        MODEL,
        "--vars",
        f"{{moodle_parquet_dir: '{parquet_dir}'}}",
        check=False,
    )
    rows = [
        line
        for line in result.stdout.splitlines()
        if "registered" in line and "mdl_feedback" in line
    ]
    assert rows and rows[0].rstrip().endswith(": 0 rows"), result.stdout[-3000:]
    assert_empty_model(result, 0)

"""The project on PostgreSQL: in-database builds, DuckDB over PostgreSQL, serving, parity,
and the dashboard and message lists read from each target.

One small demo site is built three ways, once per session:

* ``duckdb``: the default target, reading the demo's DuckDB file (the
  ``pg_demo_reference`` build, which the MySQL tests compare with too);
* ``postgres``: dbt-postgres inside the Moodle database, as a build role that may
  create schemas but cannot write a Moodle table;
* ``duckdb_pg``: DuckDB attaching the Moodle database as the read-only reader role,
  writing the marts to a second database ("analytics") as the build role.

Every mart must hold the same rows on every engine: integers, text, booleans and
timestamps exactly equal, floating-point numbers equal within a relative tolerance
of 1e-9 (absolute 1e-12 near zero), as engines sum and divide in different orders.
How long a model took to fit (fit_seconds) measures the run and is left out.
Marts computed differently by design (a Python model on DuckDB, its SQL stand-in on
dbt-postgres, and everything built from them) are compared between the two DuckDB
builds only.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field

import psycopg2
import psycopg2.errors
import pytest
from psycopg2 import sql

from analysis_queries import compile_analyses
from dbt_project import QUICK_RISK_VARS, WITHOUT_TESTS, Workspace
from mart_compare import (
    Mart,
    comparable,
    compare_builds,
    differences,
    differing_by_design,
    duckdb_table_rows,
    manifest_of,
    marts_of,
    models_not_compiled,
    same_value,
)
from moodle_analytics.dashboard import build_dashboard
from moodle_analytics.dashboard.cli import main as dashboard_main
from moodle_analytics.dashboard.warehouse import Target
from moodle_analytics.messages import lists
from moodle_analytics.messages.cli import main as messages_main
from moodle_analytics.moodle_db.tables import MOODLE_TABLES
from moodle_analytics.postgres import cli as pg_cli
from moodle_analytics.postgres.check import ConnectionSettings
from moodle_analytics.postgres.duckdb_plugin import create_secret_sql
from moodle_analytics.postgres.load import ensure_database
from moodle_analytics.postgres.roles import create_bi_role, create_build_role, create_reader_role
from moodle_analytics.postgres.server import PostgresServer, write_env_file
from postgres_fixtures import LoadedMoodle, ReferenceBuild

pytest_plugins = ["postgres_fixtures"]
pytestmark = pytest.mark.postgres

# Measurements of the run, not results: how long a model took to fit.
RUN_MEASUREMENTS = {"fit_seconds"}
ANALYTICS_DATABASE = "analytics"
READER, BUILDER, BI = "moodle_reader", "moodle_builder", "moodle_bi"


# -- the three builds ----------------------------------------------------------------
@dataclass
class Builds:
    moodle: LoadedMoodle
    passwords: dict[str, str]
    duckdb: Workspace
    postgres: Workspace
    duckdb_pg: Workspace
    results: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    moodle_before: dict[str, tuple] = field(default_factory=dict)
    moodle_after: dict[str, tuple] = field(default_factory=dict)

    @property
    def server(self) -> PostgresServer:
        return self.moodle.server

    def connect(self, database: str = "moodle", role: str | None = None):
        if role is None:
            return self.server.connect(database)
        return self.server.connect(database, user=role, password=self.passwords[role])

    def require(self, name: str) -> None:
        result = self.results[name]
        if result.returncode != 0:
            pytest.fail(f"the {name} build failed:\n{result.stdout[-5000:]}", pytrace=False)


def pg_env(server: PostgresServer, prefix: str, role: str, password: str, database: str):
    return {
        f"{prefix}_HOST": server.host,
        f"{prefix}_PORT": str(server.port),
        f"{prefix}_USER": role,
        f"{prefix}_PASSWORD": password,
        f"{prefix}_DBNAME": database,
    }


def moodle_fingerprints(conn) -> dict[str, tuple]:
    """Row count and a digest of every row of each Moodle table."""
    fingerprints = {}
    with conn.cursor() as cursor:
        for table in MOODLE_TABLES:
            cursor.execute(
                sql.SQL(
                    "select count(*), "
                    "md5(coalesce(string_agg(md5(t::text), '' order by t.id), '')) from {} as t"
                ).format(sql.Identifier("public", f"mdl_{table}"))
            )
            fingerprints[table] = cursor.fetchone()
    conn.rollback()
    return fingerprints


@pytest.fixture(scope="module")
def builds(pg_moodle: LoadedMoodle, pg_demo_reference: ReferenceBuild, tmp_path_factory) -> Builds:
    server = pg_moodle.server
    admin = pg_moodle.connect()
    try:
        passwords = {
            READER: create_reader_role(admin, READER),
            BUILDER: create_build_role(admin, BUILDER, reader_role=READER),
            BI: create_bi_role(admin, BI),
        }
        before = moodle_fingerprints(admin)
    finally:
        admin.close()
    # The marts of duckdb_pg go to their own database, where the builder may create.
    ensure_database(server.dsn(), ANALYTICS_DATABASE)
    analytics = server.connect(ANALYTICS_DATABASE)
    try:
        create_build_role(analytics, BUILDER, passwords[BUILDER], reader_role=READER)
    finally:
        analytics.close()

    root = tmp_path_factory.mktemp("postgres_build")
    source = pg_moodle.source

    def workspace(name: str, extra_env: dict[str, str]) -> Workspace:
        directory = root / name
        directory.mkdir()
        return Workspace(
            directory=directory,
            source=source.duckdb,
            warehouse=directory / "moodle_analytics.duckdb",
            ground_truth=source.ground_truth,
            extra_env=extra_env,
        )

    built = Builds(
        moodle=pg_moodle,
        passwords=passwords,
        duckdb=pg_demo_reference.workspace,
        postgres=workspace(
            "postgres",
            {
                **pg_env(server, "MOODLE_PG", BUILDER, passwords[BUILDER], pg_moodle.database),
                "MOODLE_PG_BI_ROLES": BI,
            },
        ),
        duckdb_pg=workspace(
            "duckdb_pg",
            {
                **pg_env(server, "MOODLE_PG", READER, passwords[READER], pg_moodle.database),
                **pg_env(server, "ANALYTICS_PG", BUILDER, passwords[BUILDER], ANALYTICS_DATABASE),
                "MOODLE_PG_BI_ROLES": BI,
                "MOODLE_ANALYTICS_DUCKDB_PG": str(root / "duckdb_pg" / "work.duckdb"),
            },
        ),
        moodle_before=before,
    )
    built.results["duckdb"] = pg_demo_reference.result
    # Data and unit tests run on DuckDB in the built_demo suite, and here on dbt-postgres,
    # whose SQL differs; the DuckDB builds are checked by comparing their marts.
    commands = {
        "postgres": ("build", "--target", "postgres"),
        "duckdb_pg": ("build", "--target", "duckdb_pg", *WITHOUT_TESTS),
    }
    for name, arguments in commands.items():
        started = time.perf_counter()
        built.results[name] = getattr(built, name).dbt(*arguments, *QUICK_RISK_VARS, check=False)
        built.seconds[name] = time.perf_counter() - started
    admin = pg_moodle.connect()
    try:
        built.moodle_after = moodle_fingerprints(admin)
    finally:
        admin.close()
    print(
        "\nbuild seconds, small demo: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in built.seconds.items())
    )
    return built


# -- reading marts -------------------------------------------------------------------
def rows_of_postgres(conn, mart: Mart) -> tuple[list[str], list[tuple]]:
    with conn.cursor() as cursor:
        cursor.execute(sql.SQL("select * from {}").format(sql.Identifier(mart.schema, mart.name)))
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    conn.rollback()
    return comparable(columns, rows, RUN_MEASUREMENTS)


def compare_marts(builds: Builds, other: str) -> tuple[list[str], dict[str, list[str]]]:
    """Every mart of the DuckDB build against the same mart of another build."""
    database = "moodle" if other == "postgres" else ANALYTICS_DATABASE
    conn = builds.connect(database)
    try:
        return compare_builds(
            builds.duckdb.directory / "target",
            getattr(builds, other).directory / "target",
            lambda mart: duckdb_table_rows(builds.duckdb, mart.schema, mart.name, RUN_MEASUREMENTS),
            lambda mart: rows_of_postgres(conn, mart),
        )
    finally:
        conn.close()


# -- tests -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["duckdb", "postgres", "duckdb_pg"])
def test_build_passes(builds: Builds, name: str):
    builds.require(name)
    summary = re.search(r"Done\. PASS=(\d+) WARN=\d+ ERROR=(\d+)", builds.results[name].stdout)
    assert summary and int(summary.group(1)) > 50 and summary.group(2) == "0"


def test_every_model_compiles_for_postgres(builds: Builds):
    builds.require("postgres")
    assert models_not_compiled(builds.postgres.directory / "target") == []


def test_postgres_marts_equal_duckdb_marts(builds: Builds):
    builds.require("duckdb")
    builds.require("postgres")
    compared, failures = compare_marts(builds, "postgres")
    assert {"fct_learner_weeks", "fct_learner_courses", "dim_courses"} <= set(compared)
    assert not failures, failures


def test_duckdb_over_postgres_marts_equal_duckdb_marts(builds: Builds):
    builds.require("duckdb")
    builds.require("duckdb_pg")
    compared, failures = compare_marts(builds, "duckdb_pg")
    # Same engine both ways: every mart compared, Python risk models included.
    assert set(compared) == set(marts_of(builds.duckdb.directory / "target"))
    assert not failures, failures


def test_moodle_tables_never_written(builds: Builds):
    for name in ("postgres", "duckdb_pg"):
        builds.require(name)
    assert builds.moodle_after == builds.moodle_before
    conn = builds.connect()
    try:
        with conn.cursor() as cursor:
            for role in (READER, BUILDER, BI):
                cursor.execute(
                    "select c.relname from pg_class as c "
                    "join pg_namespace as n on n.oid = c.relnamespace "
                    "where n.nspname = 'public' and c.relkind = 'r' and has_table_privilege("
                    "%s, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')",
                    (role,),
                )
                assert cursor.fetchall() == [], f"{role} may write Moodle tables"
            # Nothing new beside the Moodle tables; the build's own schemas are its own.
            cursor.execute(
                "select relname from pg_class as c join pg_namespace as n "
                "on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in "
                "('r', 'v', 'm') and relname not like 'mdl\\_%%'"
            )
            assert cursor.fetchall() == []
            cursor.execute(
                "select nspname, pg_get_userbyid(nspowner) from pg_namespace "
                "where nspname like 'analytics%%'"
            )
            owners = dict(cursor.fetchall())
        assert owners and set(owners.values()) == {BUILDER}
    finally:
        conn.close()


@pytest.mark.parametrize("database", ["moodle", ANALYTICS_DATABASE])
def test_bi_role_reads_the_marts_and_nothing_of_moodle(builds: Builds, database: str):
    builds.require("postgres" if database == "moodle" else "duckdb_pg")
    built = builds.postgres if database == "moodle" else builds.duckdb_pg
    marts = marts_of(built.directory / "target")
    bi = builds.connect(database, BI)
    try:
        for mart in marts.values():
            rows_of_postgres(bi, mart)
        forbidden = ["analytics_staging.stg_moodle__users", "analytics_seeds.programmes"]
        if database == "moodle":
            forbidden += [
                "public.mdl_user",
                "public.mdl_logstore_standard_log",
                "analytics_intermediate.int_course_learners",
            ]
        for relation in forbidden:
            with (
                pytest.raises(
                    (psycopg2.errors.InsufficientPrivilege, psycopg2.errors.UndefinedTable)
                ),
                bi.cursor() as cursor,
            ):
                cursor.execute(f"select * from {relation} limit 1")
            bi.rollback()
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction), bi.cursor() as cursor:
            cursor.execute("delete from analytics_marts.dim_courses")
        bi.rollback()
    finally:
        bi.close()


# -- analyses and history, read as BI reads them ---------------------------------------
def rows_of_query(conn, query: str, leave_out=()) -> tuple[list[str], list[tuple]]:
    with conn.cursor() as cursor:
        cursor.execute(query)
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    conn.rollback()
    return comparable(columns, rows, leave_out)


def test_analyses_run_on_postgres_as_the_bi_role(builds: Builds):
    builds.require("duckdb")
    builds.require("postgres")
    on_postgres = compile_analyses(builds.postgres, "--target", "postgres", *QUICK_RISK_VARS)
    on_duckdb = compile_analyses(builds.duckdb, *QUICK_RISK_VARS)
    # Analyses over the risk scores differ by design (Python models on DuckDB only).
    target = builds.duckdb.directory / "target"
    by_design = differing_by_design(
        target, marts_of(target), marts_of(builds.postgres.directory / "target")
    )
    analyses = {
        node["name"]: node
        for node in manifest_of(target)["nodes"].values()
        if node["resource_type"] == "analysis"
    }
    bi = builds.connect("moodle", BI)
    try:
        compared = []
        for name, query in on_postgres.items():
            columns, rows = rows_of_query(bi, query)
            assert rows, name
            if by_design.isdisjoint(analyses[name]["depends_on"]["nodes"]):
                with builds.duckdb.connect() as connection:
                    cursor = connection.execute(on_duckdb[name])
                    expected = comparable([c[0] for c in cursor.description], cursor.fetchall())
                assert not differences(*expected, columns, rows), name
                compared.append(name)
    finally:
        bi.close()
    assert len(compared) >= 4


@pytest.mark.parametrize(
    ("name", "database"), [("postgres", "moodle"), ("duckdb_pg", ANALYTICS_DATABASE)]
)
def test_history_is_the_same_on_postgres_and_served_to_bi(builds: Builds, name, database):
    """The snapshots ran on every engine: the first version of each enrolment and account
    is the same everywhere, but for the moment each run saw it (observed_at)."""
    builds.require("duckdb")
    builds.require(name)
    bi = builds.connect(database, BI)
    try:
        for table in ("fct_enrolment_status_history", "fct_learner_account_history"):
            got = rows_of_query(bi, f"select * from analytics_history.{table}", {"observed_at"})
            expected = duckdb_table_rows(builds.duckdb, "analytics_history", table, {"observed_at"})
            assert len(expected[1]) > 100, table
            assert not differences(*expected, *got), table
    finally:
        bi.close()


# -- bad settings name the variable to fix ---------------------------------------------
def check(monkeypatch, capsys, environ: dict[str, str], *args: str) -> tuple[int, str]:
    for key in [key for key in os.environ if key.startswith(("MOODLE_PG", "ANALYTICS_PG"))]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    code = pg_cli.main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_check_passes_with_good_settings(builds: Builds, monkeypatch, capsys):
    postgres = builds.postgres.extra_env
    code, output = check(monkeypatch, capsys, postgres, "--target", "postgres")
    assert code == 0, output
    code, output = check(monkeypatch, capsys, builds.duckdb_pg.extra_env, "--target", "duckdb_pg")
    assert code == 0, output


@pytest.mark.parametrize(
    ("target", "change", "variable"),
    [
        ("postgres", {"MOODLE_PG_PORT": "1"}, "MOODLE_PG_PORT"),
        ("postgres", {"MOODLE_PG_PORT": "five"}, "MOODLE_PG_PORT"),
        ("postgres", {"MOODLE_PG_HOST": "no-such-host.invalid"}, "MOODLE_PG_HOST"),
        ("postgres", {"MOODLE_PG_PASSWORD": "wrong"}, "MOODLE_PG_PASSWORD"),
        ("postgres", {"MOODLE_PG_DBNAME": "no_such_database"}, "MOODLE_PG_DBNAME"),
        ("postgres", {"MOODLE_PG_HOST": ""}, "MOODLE_PG_HOST"),
        # The read-only reader cannot hold the schemas a build writes.
        ("postgres", "MOODLE_PG", "MOODLE_PG_USER"),
        ("duckdb_pg", "ANALYTICS_PG", "ANALYTICS_PG_USER"),
        ("duckdb_pg", {"ANALYTICS_PG_PASSWORD": "wrong"}, "ANALYTICS_PG_PASSWORD"),
    ],
)
def test_check_names_the_variable_to_fix(
    builds: Builds, monkeypatch, capsys, target, change, variable
):
    environ = dict((builds.postgres if target == "postgres" else builds.duckdb_pg).extra_env)
    if isinstance(change, str):
        change = {f"{change}_USER": READER, f"{change}_PASSWORD": builds.passwords[READER]}
    environ.update(change)
    code, output = check(monkeypatch, capsys, environ, "--target", target)
    assert code == 2
    assert variable in output.split("PostgreSQL said")[0], output


def test_dbt_names_the_variable_to_fix(builds: Builds):
    # duckdb_pg checks its logins before DuckDB attaches anything.
    workspace = builds.duckdb_pg
    wrong = workspace.with_env(ANALYTICS_PG_PASSWORD="wrong")
    result = wrong.dbt("run", "--target", "duckdb_pg", "-s", "dim_courses", check=False)
    assert result.returncode != 0
    assert "ANALYTICS_PG_PASSWORD" in result.stdout, result.stdout[-3000:]
    # Any target: Moodle tables not where the sources point.
    result = builds.postgres.dbt(
        "run",
        "--target",
        "postgres",
        "-s",
        "stg_moodle__users",
        "--vars",
        "{moodle_table_prefix: moodle_}",
        check=False,
    )
    assert result.returncode != 0
    assert "moodle_table_prefix (now moodle_)" in result.stdout, result.stdout[-3000:]
    assert "MOODLE_PG_DBNAME" in result.stdout


def test_secrets_quote_what_the_variables_hold():
    settings = ConnectionSettings.from_env(
        "X_PG",
        environ={
            "X_PG_HOST": "db",
            "X_PG_PORT": "5432",
            "X_PG_USER": "o'brien",
            "X_PG_PASSWORD": "it's; drop",
        },
    )
    assert settings.dbname == "moodle"
    statement = create_secret_sql("moodle_source", settings)
    assert "USER 'o''brien'" in statement and "PASSWORD 'it''s; drop'" in statement
    with pytest.raises(ValueError, match="secret name"):
        create_secret_sql("bad name", settings)


# -- the dashboard and the message lists read every target -----------------------------
# Sections drawn from the risk scores, which dbt-postgres computes by rules (by design).
RISK_SECTIONS = {"risk", "intervention-queue", "backtest"}


def marts_target(builds: Builds, name: str, password: str | None = None) -> Target:
    """The marts of one build, read as a BI tool would: the BI login on PostgreSQL."""
    if name == "duckdb":
        return Target("duckdb", builds.duckdb.warehouse)
    prefix, database = {
        "postgres": ("MOODLE_PG", "moodle"),
        "duckdb_pg": ("ANALYTICS_PG", ANALYTICS_DATABASE),
    }[name]
    login = pg_env(builds.server, prefix, BI, password or builds.passwords[BI], database)
    return Target(name, environ=login)


def page_parts(path) -> dict[str, str]:
    """A page's sections (every course's view included) and its filters, by id."""
    html = path.read_text()
    parts = dict(re.findall(r'<section class="block" id="([^"]+)"(.*?)</section>', html, re.S))
    parts["filters"] = html.split('<div class="filters">')[1].split("</nav>")[0]
    return parts


def test_dashboard_pages_are_the_same_from_every_target(builds: Builds, tmp_path):
    pages = {}
    for name in ("duckdb", "postgres", "duckdb_pg"):
        builds.require(name)
        started = time.perf_counter()
        result = build_dashboard(marts_target(builds, name), tmp_path / name / "dashboard.html")
        print(f"\ndashboard from {name}: {time.perf_counter() - started:.1f} s")
        pages[name] = {page.name: page_parts(page) for page in [result.path, *result.teacher_pages]}
    site = pages["duckdb"]["dashboard.html"]
    assert len(pages["duckdb"]) > 2 and site["weekly-active"].count("<svg") > 20
    for name in ("postgres", "duckdb_pg"):
        assert pages[name].keys() == pages["duckdb"].keys()
        for page, parts in pages["duckdb"].items():
            assert pages[name][page].keys() == parts.keys()
            differ = {part for part in parts if pages[name][page][part] != parts[part]}
            # Same engine for the risk models on duckdb_pg: every section equal.
            allowed = RISK_SECTIONS if name == "postgres" else set()
            assert differ <= allowed, (name, page, differ)


def test_message_lists_are_the_same_from_every_target(builds: Builds):
    for spec in lists.LISTS.values():
        rows = {
            name: lists.read_rows(marts_target(builds, name), "analytics_actions", spec)
            for name in ("duckdb", "postgres", "duckdb_pg")
        }
        assert rows["duckdb"], spec.name
        for name in ("postgres", "duckdb_pg"):
            assert len(rows[name]) == len(rows["duckdb"]), (spec.name, name)
            for row, other in zip(rows["duckdb"], rows[name], strict=True):
                assert list(row) == list(other), (spec.name, name)
                unequal = [key for key in row if not same_value(row[key], other[key])]
                assert unequal == [], (spec.name, name, unequal, row, other)


def test_dashboard_and_lists_say_what_to_fix_on_postgres(builds: Builds, tmp_path, capsys):
    def run(command, target: Target, *args: str) -> tuple[int, str]:
        env_file = tmp_path / "login.env"
        write_env_file(env_file, dict(target.environ or {}))
        code = command(["--target", target.name, "--env-file", str(env_file), *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    out = ("--out", str(tmp_path / "site" / "dashboard.html"))
    wrong = marts_target(builds, "postgres", password="wrong")
    code, said = run(dashboard_main, wrong, *out)
    assert code == 2 and said.count("\n") == 1
    assert "check MOODLE_PG_USER and MOODLE_PG_PASSWORD" in said
    code, said = run(messages_main, wrong, "--list", "reminders", "--out", str(tmp_path))
    assert code == 2 and "check MOODLE_PG_USER and MOODLE_PG_PASSWORD" in said
    # A database that the login reaches but where no build wrote the marts.
    login = dict(marts_target(builds, "duckdb_pg").environ or {}, ANALYTICS_PG_DBNAME="postgres")
    code, said = run(dashboard_main, Target("duckdb_pg", environ=login), *out)
    assert code == 2 and said.count("\n") == 1
    assert f"no marts in analytics_marts, analytics_ml, analytics_actions of {BI}@" in said
    assert "run `dbt build --target duckdb_pg` first" in said
    # A list that is not in the schema named.
    postgres = marts_target(builds, "postgres")
    code, said = run(
        messages_main, postgres, "--list", "reminders", "--schema", "analytics_marts",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 2
    assert "build it with `dbt build --target postgres -s fct_deadline_reminders`" in said

"""moodle-pg: a private PostgreSQL server holding the Moodle tables.

moodle-pg start    start a server on 127.0.0.1 that stays up; its settings go to
                   an env file as shell export lines (source it for dbt and psql)
moodle-pg load     load the Moodle tables from the demo DuckDB file (or Parquet)
moodle-pg status   is the server of the env file up?
moodle-pg stop     stop it and delete its data directory
moodle-pg check    check the connection settings a dbt target will use (MOODLE_PG_*,
                   ANALYTICS_PG_*): any problem is reported with the variable to fix
moodle-pg bench    time dbt build of the same data on duckdb, duckdb_pg, postgres and
                   duckdb_mysql (a private MariaDB server beside PostgreSQL)
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path

import psycopg2
from psycopg2.extensions import make_dsn

from moodle_analytics import cli_options
from moodle_analytics.bench.postgres import TARGETS, compare_targets
from moodle_analytics.moodle_db.server_commands import ServerCommands
from moodle_analytics.postgres.check import (
    ConnectionSettings,
    ConnectionSettingsError,
    check_target,
)
from moodle_analytics.postgres.load import METHODS, LoadError, load_moodle
from moodle_analytics.postgres.roles import RoleError, SiteRoles, create_site_roles
from moodle_analytics.postgres.server import (
    DEFAULT_DATABASE,
    PostgresError,
    PostgresServer,
)

SERVERS = ServerCommands(PostgresServer)
PROG = SERVERS.prog
say = SERVERS.say
# Options of `moodle-pg load` passed to load_moodle as they are.
LOAD_OPTIONS = ("schema", "prefix", "source_schema", "method", "jobs", "replace", "strict")


def cmd_status(args: argparse.Namespace) -> int:
    server = SERVERS.running(args.env_file)
    if server is None:
        return 3
    try:
        conn = server.connect(connect_timeout=5)
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        conn.close()
    except psycopg2.Error as error:
        say(f"postmaster {server.postmaster_pid()} up but not answering: {error}")
        return 1
    say(
        f"running, PostgreSQL {version} on {server.host}:{server.port}, "
        f"pid {server.postmaster_pid()}, data {server.data_dir}"
    )
    return 0


def _connection_settings(env_file: Path) -> dict[str, str]:
    """Server settings from the env file, else from MOODLE_PG_* in the environment."""
    if env_file.exists():
        values = SERVERS.read_env(env_file)
        if "MOODLE_PG_PORT" in values:
            return values
    if "MOODLE_PG_HOST" in os.environ or "MOODLE_PG_PORT" in os.environ:
        return {key: value for key, value in os.environ.items() if key.startswith("MOODLE_PG_")}
    raise PostgresError(
        f"no server: {env_file} does not exist and MOODLE_PG_HOST/PORT are not set; "
        f"run `{PROG} start` first"
    )


def _create_roles(args: argparse.Namespace, settings: dict[str, str], dsn: str, database: str):
    """The site's three roles; their logins join what the env file held."""
    roles = SiteRoles(args.reader_role, args.builder_role, args.bi_role, args.analytics_database)
    known = {
        roles.reader: settings.get("MOODLE_PG_READER_PASSWORD"),
        roles.builder: settings.get("MOODLE_PG_BUILDER_PASSWORD"),
        roles.bi: settings.get("MOODLE_PG_BI_PASSWORD"),
    }
    passwords = create_site_roles(
        dsn, database, roles, schema=args.schema, prefix=args.prefix, passwords=known
    )
    SERVERS.add_to_env_file(args.env_file, roles.env(passwords))
    say(
        f"roles {roles.reader} (SELECT on the Moodle tables), {roles.builder} (reads them, "
        f"creates schemas in {database} and {roles.analytics_database}) and {roles.bi} "
        f"(no Moodle access) ready; logins in {args.env_file}"
    )


def cmd_load(args: argparse.Namespace) -> int:
    source = cli_options.input_moodle_source(args)
    settings = _connection_settings(args.env_file)
    # A local server's defaults where the settings leave them out.
    local = {"MOODLE_PG_HOST": "127.0.0.1", "MOODLE_PG_PORT": "5432", "MOODLE_PG_USER": "postgres"}
    login = ConnectionSettings.from_env(environ={**local, **settings})
    dsn = make_dsn(login.dsn(), dbname="postgres")
    database = args.database or settings.get("MOODLE_PG_DBNAME") or DEFAULT_DATABASE
    say(f"loading {source} into {database}.{args.schema} ({args.method})")
    options = {name: getattr(args, name) for name in LOAD_OPTIONS}
    status = SERVERS.load(
        lambda log: load_moodle(dsn, source, database=database, log=log, **options),
        f"{database}.{args.schema}",
        (LoadError, psycopg2.Error),
    )
    if status:
        return status
    if args.roles:
        _create_roles(args, settings, dsn, database)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    environ = SERVERS.environ(args.env_file)
    lines = check_target(args.target, schema=args.schema, prefix=args.prefix, environ=environ)
    for line in lines:
        say(f"{args.target}: {line}")
    say(f"{args.target}: connection settings OK")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    targets = tuple(name for name in args.targets.split(",") if name)
    unknown = set(targets) - set(TARGETS)
    if unknown:
        return cli_options.fail(PROG, f"unknown targets {sorted(unknown)}; choose from {TARGETS}")
    cli_options.input_duckdb(args.duckdb, "--duckdb")
    if args.work_dir is not None:
        cli_options.output_directory(args.work_dir, "--work-dir")
    with tempfile.TemporaryDirectory(prefix="moodle-pg-bench-", dir=args.work_dir) as work:
        # The postgres OS user runs the server in here when we are root.
        Path(work).chmod(0o755)
        timings = compare_targets(
            args.duckdb.resolve(),
            Path(work),
            args.project_dir.resolve(),
            targets,
            shlex.split(args.dbt_args),
        )
    width = max(len(timing.phase) for timing in timings)
    print()
    for timing in timings:
        print(f"{timing.phase:<{width}}  {timing.seconds:8.1f} s  {timing.detail}")
    return 0 if all(timing.ok for timing in timings) else 1


def _add_load(add) -> None:
    load = add("load", "load the Moodle tables into the server", cmd_load)
    SERVERS.add_load_options(load)
    load.add_argument("--database", help="target database (default: MOODLE_PG_DBNAME, moodle)")
    cli_options.add_moodle_tables(load, "of the Moodle tables in PostgreSQL")
    load.add_argument(
        "--source-schema",
        type=cli_options.identifier,
        default=cli_options.MOODLE_SCHEMA,
        help="schema of the Moodle tables in the DuckDB file (their prefix is --prefix)",
    )
    load.add_argument("--method", choices=METHODS, default="duckdb", help="how rows are moved")
    load.add_argument(
        "--jobs", type=int, help="parallel connections (default: half the CPUs to copy, 4 to index)"
    )
    roles = SiteRoles()
    load.add_argument(
        "--roles",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="(re)create the reader, build and BI roles and save their logins in the env file",
    )
    for flag, default, what in (
        ("--reader-role", roles.reader, "login with SELECT on the Moodle tables only"),
        ("--builder-role", roles.builder, "login that reads Moodle and creates analytics schemas"),
        ("--bi-role", roles.bi, "login for dashboards, no access to the Moodle schema"),
        ("--analytics-database", roles.analytics_database, "database of the duckdb_pg marts"),
    ):
        load.add_argument(flag, default=default, help=what)


def _add_check(add) -> None:
    check = add("check", "check the PostgreSQL settings a dbt target will use", cmd_check)
    SERVERS.add_check_env_file(check)
    check.add_argument(
        "--target",
        choices=("postgres", "duckdb_pg"),
        default="postgres",
        help="the profiles.yml target whose settings to check",
    )
    cli_options.add_moodle_tables(check)


def _add_bench(add) -> None:
    bench = add("bench", "time dbt build of one Moodle data set on each target", cmd_bench)
    cli_options.add_source_duckdb(bench, "--duckdb", "Moodle source DuckDB file")
    cli_options.add_project_dir(bench, Path.cwd())
    bench.add_argument("--work-dir", type=Path, help="where the server and warehouses go")
    bench.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma-separated targets to build, in order",
    )
    bench.add_argument("--dbt-args", default="", help="extra dbt build arguments, one string")


def build_parser() -> argparse.ArgumentParser:
    parser, add = SERVERS.parser(__doc__)
    SERVERS.add_server_commands(add, DEFAULT_DATABASE, cmd_status)
    _add_load(add)
    _add_check(add)
    _add_bench(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    errors = (PostgresError, LoadError, RoleError, ConnectionSettingsError)
    return SERVERS.run(build_parser().parse_args(argv), errors, psycopg2.Error, "PostgreSQL")


if __name__ == "__main__":
    sys.exit(main())

"""moodle-pg: a private PostgreSQL server holding the Moodle tables.

moodle-pg start    start a server on 127.0.0.1 that stays up; its settings go to
                   an env file as shell export lines (source it for dbt and psql)
moodle-pg load     load the Moodle tables from the demo DuckDB file (or Parquet)
moodle-pg status   is the server of the env file up?
moodle-pg stop     stop it and delete its data directory
moodle-pg check    check the connection settings a dbt target will use (MOODLE_PG_*,
                   ANALYTICS_PG_*): any problem is reported with the variable to fix
moodle-pg bench    time dbt build of the same data on duckdb, duckdb_pg and postgres
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
from moodle_analytics.postgres.check import (
    ConnectionSettings,
    ConnectionSettingsError,
    check_target,
)
from moodle_analytics.postgres.load import METHODS, LoadError, load_moodle
from moodle_analytics.postgres.roles import RoleError, SiteRoles, create_site_roles
from moodle_analytics.postgres.server import (
    DEFAULT_DATABASE,
    DEFAULT_ENV_FILE,
    MARKER_FILE,
    PostgresError,
    PostgresServer,
    read_env_file,
    write_env_file,
)

PROG = "moodle-pg"
# Options of `moodle-pg load` passed to load_moodle as they are.
LOAD_OPTIONS = ("schema", "prefix", "source_schema", "method", "jobs", "replace", "strict")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except the empty ones the help text already explains."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def say(message: str) -> None:
    print(f"{PROG}: {message}", flush=True)


def _recorded_server(env_file: Path) -> PostgresServer | None:
    """The server an env file describes, or None if the file records none."""
    if not env_file.exists():
        return None
    values = read_env_file(env_file)
    if "MOODLE_PG_ROOT" not in values:
        return None
    return PostgresServer.from_env_file(env_file)


def cmd_start(args: argparse.Namespace) -> int:
    cli_options.output_file(args.env_file, "--env-file")
    recorded = _recorded_server(args.env_file)
    if recorded is not None:
        if recorded.is_running():
            cli_options.warn(
                PROG,
                f"a server is already running on port {recorded.port} ({args.env_file}); "
                f"`{PROG} stop` first",
            )
            return 1
        if recorded.root is not None and (recorded.root / MARKER_FILE).exists():
            recorded.stop()
    server = PostgresServer(
        args.port,
        database=args.database,
        base_dir=args.base_dir,
        install=args.install,
        persistent=True,
    )
    server.start()
    server.write_env_file(args.env_file)
    say(
        f"PostgreSQL on {server.host}:{server.port}, database {server.database}, "
        f"data in {server.data_dir}\n{PROG}: settings in {args.env_file} "
        f"(source {args.env_file})"
    )
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    server = _recorded_server(args.env_file)
    if server is None:
        say(f"no server recorded in {args.env_file}; nothing to stop")
        return 0
    if server.root is not None and not server.root.exists():
        say(f"{server.root} is gone; removing stale {args.env_file}")
    else:
        server.stop()
        say(f"stopped the server on port {server.port} and removed its data")
    args.env_file.unlink()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    server = _recorded_server(args.env_file)
    if server is None or not server.is_running():
        why = (
            f"no server recorded in {args.env_file}"
            if server is None
            else f"stale {args.env_file}; `{PROG} stop` tidies it"
        )
        say(f"not running ({why})")
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
        values = read_env_file(env_file)
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
    values = read_env_file(args.env_file) if args.env_file.exists() else {}
    write_env_file(args.env_file, {**values, **roles.env(passwords)})
    say(
        f"roles {roles.reader} (SELECT on the Moodle tables), {roles.builder} (reads them, "
        f"creates schemas in {database} and {roles.analytics_database}) and {roles.bi} "
        f"(no Moodle access) ready; logins in {args.env_file}"
    )


def cmd_load(args: argparse.Namespace) -> int:
    if args.duckdb is not None:
        cli_options.input_duckdb(args.duckdb, "--duckdb")
    else:
        cli_options.input_directory(args.parquet_dir, "--parquet-dir")
    settings = _connection_settings(args.env_file)
    # A local server's defaults where the settings leave them out.
    local = {"MOODLE_PG_HOST": "127.0.0.1", "MOODLE_PG_PORT": "5432", "MOODLE_PG_USER": "postgres"}
    login = ConnectionSettings.from_env(environ={**local, **settings})
    dsn = make_dsn(login.dsn(), dbname="postgres")
    database = args.database or settings.get("MOODLE_PG_DBNAME") or DEFAULT_DATABASE
    source = args.duckdb or args.parquet_dir
    say(f"loading {source} into {database}.{args.schema} ({args.method})")
    options = {name: getattr(args, name) for name in LOAD_OPTIONS}
    try:
        result = load_moodle(
            dsn, source, database=database, log=lambda message: say(f"  {message}"), **options
        )
    except (LoadError, psycopg2.Error) as error:
        kept = f"the Moodle tables in {database}.{args.schema} are as they were"
        return cli_options.fail(PROG, f"{cli_options.one_line(error)} ({kept})")
    log_rows = result.row_counts["logstore_standard_log"]
    say(f"{result.total_rows:,} rows ({log_rows:,} log rows) in {result.seconds['total']:.1f} s")
    if args.roles:
        _create_roles(args, settings, dsn, database)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    if args.env_file is not None:
        environ.update(read_env_file(args.env_file))
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


def _add_server_env_file(parser: argparse.ArgumentParser) -> None:
    cli_options.add_env_file(
        parser, DEFAULT_ENV_FILE, "shell export lines with the server's connection settings"
    )


def _add_start(add) -> None:
    start = add("start", "start a private server that stays up", cmd_start)
    _add_server_env_file(start)
    start.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (default: a free one)")
    start.add_argument(
        "--database", default=DEFAULT_DATABASE, help="database to create for the Moodle tables"
    )
    start.add_argument("--base-dir", type=Path, help="where to make the temporary directory")
    start.add_argument(
        "--install",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="apt-get install postgresql if the server binaries are missing (root only)",
    )


def _add_load(add) -> None:
    load = add("load", "load the Moodle tables into the server", cmd_load)
    _add_server_env_file(load)
    cli_options.add_moodle_source(load, required=True)
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
    load.add_argument(
        "--replace", action="store_true", help="drop and reload Moodle tables already there"
    )
    load.add_argument(
        "--strict",
        action="store_true",
        help="fail, rather than warn, when the source breaks one of Moodle's unique indexes",
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
    cli_options.add_env_file(
        check, None, "take the settings from this file of export lines (default: the environment)"
    )
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
    parser = cli_options.parser(PROG, __doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name, help_text, func) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, formatter_class=_HelpFormatter)
        sub.set_defaults(func=func)
        return sub

    _add_start(add)
    _add_server_env_file(add("stop", "stop the server and delete its data directory", cmd_stop))
    _add_server_env_file(
        add("status", "report whether the server is up (exit 3 if not)", cmd_status)
    )
    _add_load(add)
    _add_check(add)
    _add_bench(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (
        cli_options.InputError,
        PostgresError,
        LoadError,
        RoleError,
        ConnectionSettingsError,
        OSError,
    ) as error:
        return cli_options.fail(PROG, error)
    except psycopg2.Error as error:
        return cli_options.fail(PROG, f"PostgreSQL: {str(error).strip()}")


if __name__ == "__main__":
    sys.exit(main())
